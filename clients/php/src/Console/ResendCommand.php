<?php

declare(strict_types=1);

namespace Tally\Laravel\Console;

use Illuminate\Console\Command;
use Tally\Laravel\Resender;

final class ResendCommand extends Command
{
    /** @var string */
    protected $signature = 'tally:resend {--limit= : at most this many spooled batch files}';

    /** @var string */
    protected $description = 'Re-send the events Tally spooled while the ingest API was unreachable (same event ids: nothing counts twice)';

    public function handle(Resender $resender): int
    {
        $limit = $this->option('limit');
        $report = $resender->run($limit === null ? (int) config('tally.resend.max_files', 1000) : max(1, (int) $limit));
        if ($report['locked']) {
            $this->line('tally:resend: another run holds the spool lock; nothing done');
            return self::SUCCESS;
        }
        $this->line(sprintf(
            'tally:resend: %d files sent in %d requests, %d events delivered, %d invalid dropped, %d files moved to failed/, %d files left%s',
            $report['files'],
            $report['requests'],
            $report['delivered_events'],
            $report['invalid_events'],
            $report['failed_files'],
            $report['remaining'],
            $report['stopped'] !== null ? " (stopped: {$report['stopped']})" : '',
        ));
        // Non-zero while the ingest API is unreachable, so the scheduler's output and monitors show it.
        return $report['stopped'] === null ? self::SUCCESS : self::FAILURE;
    }
}
