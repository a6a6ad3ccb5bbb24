<?php

declare(strict_types=1);

namespace Tally\Laravel\Tests\Unit;

use PHPUnit\Framework\TestCase;
use Tally\Laravel\BatchSender;
use Tally\Laravel\CircuitBreaker;
use Tally\Laravel\Spool;
use Tally\Laravel\TallyClient;
use Tally\Laravel\Tests\Support\MemoryLogger;
use Tally\Laravel\Tests\Support\ScriptedTransport;
use Tally\Laravel\Tests\Support\TempDir;

final class BreakerTest extends TestCase
{
    use TempDir;

    private float $now = 1_000_000.0;

    private function breaker(?MemoryLogger $logger = null): CircuitBreaker
    {
        return new CircuitBreaker($this->dir . '/breaker.json', 3, 30, $logger, fn (): float => $this->now);
    }

    public function testOpensAfterThreeFailuresLogsOnceAndIsSharedThroughTheFile(): void
    {
        $logger = new MemoryLogger();
        $a = $this->breaker($logger);
        $b = $this->breaker($logger); // another PHP-FPM worker: same file, separate object
        $a->recordFailure('connect refused');
        $b->recordFailure('connect refused');
        self::assertTrue($a->allow());
        $a->recordFailure('timeout');
        self::assertFalse($a->allow());
        self::assertFalse($b->allow(), 'the other process sees the open breaker');
        $b->recordFailure('timeout'); // a failure while open does not log again
        self::assertCount(1, $logger->messages('warning'));
        self::assertStringContainsString('open after 3 failures', $logger->messages('warning')[0]);
        self::assertSame(['state' => 'open', 'failures' => 4, 'opened_total' => 1], array_intersect_key($a->state(), array_flip(['state', 'failures', 'opened_total'])));
    }

    public function testAfterTheCooldownOneProbeGoesThroughAndASuccessCloses(): void
    {
        $logger = new MemoryLogger();
        $a = $this->breaker($logger);
        $b = $this->breaker($logger);
        for ($i = 0; $i < 3; $i++) {
            $a->recordFailure('503');
        }
        $this->now += 29;
        self::assertFalse($a->allow());
        $this->now += 2;
        self::assertSame('half-open', $a->state()['state']);
        self::assertTrue($a->allow(), 'first caller after the cool-down probes');
        self::assertFalse($b->allow(), 'others keep skipping while the probe runs');
        $a->recordSuccess();
        self::assertTrue($b->allow());
        self::assertSame('closed', $b->state()['state']);
        self::assertCount(1, $logger->messages('info'));
    }

    public function testAFailedProbeOpensAgainForAnotherCooldown(): void
    {
        $a = $this->breaker();
        for ($i = 0; $i < 3; $i++) {
            $a->recordFailure('503');
        }
        $this->now += 31;
        self::assertTrue($a->allow());
        $a->recordFailure('503');
        self::assertFalse($a->allow());
        $this->now += 31;
        self::assertTrue($a->allow());
    }

    public function testTheClientSpoolsAndCountsWhatItSkipsWhileOpenWithoutSending(): void
    {
        $logger = new MemoryLogger();
        $transport = ScriptedTransport::status(0);
        $spool = new Spool($this->dir . '/spool');
        $make = fn (): TallyClient => new TallyClient(new BatchSender($transport, 'http://ingest.test', 'k'), $this->breaker($logger), $spool, $logger);
        for ($page = 0; $page < 5; $page++) {
            $client = $make(); // one page = one PHP request = one client
            $client->track(['type' => 'movie.viewed', 'jav_id' => $page + 1]);
            $client->track(['type' => 'movie.viewed', 'jav_id' => $page + 1]);
            $client->flush();
        }
        self::assertCount(3, $transport->requests, 'pages 4 and 5 did not try');
        self::assertSame(5, $spool->count());
        $stats = $client->stats();
        self::assertSame(2, $stats['skipped_events']);
        self::assertSame(['state' => 'open', 'skipped_events' => 4, 'skipped_batches' => 2], array_intersect_key($stats['breaker'], array_flip(['state', 'skipped_events', 'skipped_batches'])));
        self::assertSame(5, $stats['spool']['files']);
        self::assertCount(1, $logger->messages('warning'));
    }
}
