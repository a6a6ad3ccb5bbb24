<?php

declare(strict_types=1);

namespace Tally\Laravel;

use Psr\Log\LoggerInterface;

/**
 * Re-sends spooled batches (`tally:resend`). Events go out as they were spooled, with the same
 * event_ids and occurred_at, so a batch that did reach Kafka before its answer timed out counts once:
 * every sink dedups on event_id.
 *
 * Consecutive files are merged into requests of up to 500 events: during an outage every page
 * spools its own file of one or two events, and an hour at 100 pages/s is 360,000 files, which one
 * request per file would take hours to drain.
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
     * @return array{locked: bool, files: int, requests: int, delivered_events: int, invalid_events: int, failed_files: int, remaining: int, stopped: ?string}
     */
    public function run(int $maxFiles = PHP_INT_MAX): array
    {
        $report = ['locked' => false, 'files' => 0, 'requests' => 0, 'delivered_events' => 0, 'invalid_events' => 0, 'failed_files' => 0, 'remaining' => 0, 'stopped' => null];
        $lock = $this->spool->lock();
        if ($lock === null) {
            return ['locked' => true, 'remaining' => $this->spool->count()] + $report;
        }
        try {
            foreach ($this->groups(array_slice($this->spool->pending(), 0, $maxFiles), $report) as $group) {
                $stopped = $this->resendGroup($group, $report);
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

    /**
     * Readable files in runs of at most MAX_EVENTS events; unreadable ones go to failed/ on the way.
     *
     * @param list<string> $files
     * @param array<string, mixed> $report
     * @return \Generator<list<array{file: string, events: list<array<string, mixed>>}>>
     */
    private function groups(array $files, array &$report): \Generator
    {
        $group = [];
        $size = 0;
        foreach ($files as $file) {
            $batch = $this->spool->read($file);
            if ($batch === null) {
                if (is_file($file)) {
                    $this->spool->moveToFailed($file, 'unreadable spool file');
                    $report['failed_files']++;
                    $this->logger?->error('tally: an unreadable spool file was moved to failed/', ['file' => basename($file)]);
                }
                continue;
            }
            $events = array_values($batch['events']);
            if ($size > 0 && $size + count($events) > BatchSender::MAX_EVENTS) {
                yield $group;
                [$group, $size] = [[], 0];
            }
            $group[] = ['file' => $file, 'events' => $events];
            $size += count($events);
        }
        if ($group !== []) {
            yield $group;
        }
    }

    /**
     * @param list<array{file: string, events: list<array<string, mixed>>}> $group
     * @param array<string, mixed> $report
     * @return string|null why the run must stop
     */
    private function resendGroup(array $group, array &$report): ?string
    {
        $events = array_merge(...array_column($group, 'events'));
        if ($events === []) {
            array_map(fn (array $f) => $this->spool->remove($f['file']), $group);
            return null;
        }
        $outcome = $this->sender->send($events);
        $report['requests']++;
        if ($outcome->kind === Outcome::RETRY) {
            $this->breaker?->recordFailure($outcome->reason());
            $this->logger?->warning('tally: resend stopped, the ingest API did not accept a batch: ' . $outcome->reason());
            return $outcome->reason();
        }
        $this->breaker?->recordSuccess(); // the server answered: web requests may send again
        if ($outcome->kind === Outcome::REFUSED) {
            if (count($group) > 1) {
                // One file spoils the merged request: send each alone to find it, keep the others.
                foreach ($group as $one) {
                    $stopped = $this->resendGroup([$one], $report);
                    if ($stopped !== null) {
                        return $stopped;
                    }
                }
                return null;
            }
            $this->spool->moveToFailed($group[0]['file'], $outcome->response->status . ' ' . $outcome->response->body);
            $report['files']++;
            $report['failed_files']++;
            $this->logger?->error('tally: the ingest API refused a spooled batch as a whole; moved to failed/', ['file' => basename($group[0]['file']), 'status' => $outcome->response->status, 'body' => substr($outcome->response->body, 0, 2000)]);
            return null;
        }
        if ($outcome->invalid !== []) {
            // Invalid events would be refused on every resend: dropped here, named in the log.
            $this->logger?->warning('tally: dropped ' . count($outcome->invalid) . ' invalid events of spooled batches', ['errors' => $outcome->invalid]);
        }
        $report['files'] += count($group);
        $report['invalid_events'] += count($outcome->invalid);
        $report['delivered_events'] += count($events) - count($outcome->invalid);
        foreach ($group as $one) {
            $this->spool->remove($one['file']);
        }
        return null;
    }
}
