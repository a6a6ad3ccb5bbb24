<?php

declare(strict_types=1);

namespace Tally\Laravel;

use Psr\Log\LoggerInterface;

/**
 * Re-sends spooled batches (`tally:resend`). Each file is sent as it was spooled, with the same
 * event_ids and occurred_at, so a batch that did reach Kafka before its answer timed out counts once:
 * every sink dedups on event_id.
 */
final class Resender
{
    public function __construct(
        private readonly Spool $spool,
        private readonly BatchSender $sender,
        private readonly ?CircuitBreaker $breaker = null,
        private readonly ?LoggerInterface $logger = null,
    ) {
    }

    /**
     * @return array{locked: bool, files: int, delivered_events: int, invalid_events: int, failed_files: int, remaining: int, stopped: ?string}
     */
    public function run(int $maxFiles = PHP_INT_MAX): array
    {
        $report = ['locked' => false, 'files' => 0, 'delivered_events' => 0, 'invalid_events' => 0, 'failed_files' => 0, 'remaining' => 0, 'stopped' => null];
        $lock = $this->spool->lock();
        if ($lock === null) {
            return ['locked' => true, 'remaining' => $this->spool->count()] + $report;
        }
        try {
            foreach (array_slice($this->spool->pending(), 0, $maxFiles) as $file) {
                $stopped = $this->resendFile($file, $report);
                if ($stopped !== null) {
                    // The ingest API is down or refusing the key: the rest would fail the same way,
                    // and the next scheduled run (a minute later) tries again.
                    $report['stopped'] = $stopped;
                    break;
                }
            }
            $report['remaining'] = $this->spool->count();
            return $report;
        } finally {
            $this->spool->unlock($lock);
        }
    }

    /** @param array<string, mixed> $report @return string|null why the run must stop */
    private function resendFile(string $file, array &$report): ?string
    {
        $batch = $this->spool->read($file);
        if ($batch === null) {
            if (is_file($file)) {
                $this->spool->moveToFailed($file, 'unreadable spool file');
                $report['failed_files']++;
                $this->logger?->error('tally: an unreadable spool file was moved to failed/', ['file' => basename($file)]);
            }
            return null;
        }
        $events = array_values($batch['events']);
        if ($events === []) {
            $this->spool->remove($file);
            return null;
        }
        $outcome = $this->sender->send($events);
        $report['files']++;
        if ($outcome->kind === Outcome::RETRY) {
            $this->breaker?->recordFailure($outcome->reason());
            $this->logger?->warning('tally: resend stopped, the ingest API did not accept a batch: ' . $outcome->reason(), ['file' => basename($file)]);
            return $outcome->reason();
        }
        $this->breaker?->recordSuccess(); // the server answered: web requests may send again
        if ($outcome->kind === Outcome::REFUSED) {
            $this->spool->moveToFailed($file, $outcome->response->status . ' ' . $outcome->response->body);
            $report['failed_files']++;
            $this->logger?->error('tally: the ingest API refused a spooled batch as a whole; moved to failed/', ['file' => basename($file), 'status' => $outcome->response->status, 'body' => substr($outcome->response->body, 0, 2000)]);
            return null;
        }
        if ($outcome->invalid !== []) {
            // Invalid events would be refused on every resend: dropped here, named in the log.
            $this->logger?->warning('tally: dropped ' . count($outcome->invalid) . ' invalid events of a spooled batch', ['errors' => $outcome->invalid]);
        }
        $report['invalid_events'] += count($outcome->invalid);
        $report['delivered_events'] += count($events) - count($outcome->invalid);
        $this->spool->remove($file);
        return null;
    }
}
