<?php

declare(strict_types=1);

namespace Tally\Laravel\Tests\Unit;

use PHPUnit\Framework\TestCase;
use Tally\Laravel\BatchSender;
use Tally\Laravel\CircuitBreaker;
use Tally\Laravel\Http\Response;
use Tally\Laravel\Resender;
use Tally\Laravel\Spool;
use Tally\Laravel\TallyClient;
use Tally\Laravel\Tests\Support\MemoryLogger;
use Tally\Laravel\Tests\Support\ScriptedTransport;
use Tally\Laravel\Tests\Support\TempDir;

final class SpoolResendTest extends TestCase
{
    use TempDir;

    /** @return list<string> */
    private function trackAndFail(Spool $spool, int $status, int $events = 3): array
    {
        $client = new TallyClient(new BatchSender(ScriptedTransport::status($status), 'http://ingest.test', 'k'), spool: $spool);
        $ids = [];
        for ($i = 0; $i < $events; $i++) {
            $ids[] = $client->track(['type' => 'movie.viewed', 'jav_id' => $i + 1]);
        }
        $client->flush();
        return $ids;
    }

    /** @dataProvider kept */
    public function testWhatCouldNotBeSentIsSpooledAtomicallyWithItsEventIds(int $status): void
    {
        $spool = new Spool($this->dir . '/spool');
        $ids = $this->trackAndFail($spool, $status);
        $files = $spool->pending();
        self::assertCount(1, $files);
        self::assertSame($ids, array_column($spool->read($files[0])['events'], 'event_id'));
        self::assertSame([], glob($this->dir . '/spool/.*.tmp'), 'no temp file left behind');
    }

    /** @return array<string, array{int}> */
    public static function kept(): array
    {
        return ['no answer' => [0], '429' => [429], '500' => [500], '503' => [503], '401' => [401]];
    }

    public function testResendDeliversTheSameEventIdsOnceAndRemovesTheFiles(): void
    {
        $spool = new Spool($this->dir . '/spool');
        $ids = array_merge($this->trackAndFail($spool, 503), $this->trackAndFail($spool, 0, 2));
        $transport = ScriptedTransport::accepting();
        $resender = new Resender($spool, new BatchSender($transport, 'http://ingest.test', 'k'));
        $report = $resender->run();
        self::assertSame(['files' => 2, 'requests' => 1, 'delivered_events' => 5, 'remaining' => 0, 'stopped' => null], array_intersect_key($report, array_flip(['files', 'requests', 'delivered_events', 'remaining', 'stopped'])));
        self::assertSame($ids, $transport->eventIds(), 'same ids, oldest file first');
        self::assertSame(0, $resender->run()['files'], 'a second run sends nothing');
        self::assertCount(1, $transport->requests);
    }

    public function testSmallFilesAreMergedIntoRequestsOfAtMost500Events(): void
    {
        $spool = new Spool($this->dir . '/spool');
        for ($i = 0; $i < 4; $i++) {
            $this->trackAndFail($spool, 503, 150);
        }
        $transport = ScriptedTransport::accepting();
        $report = (new Resender($spool, new BatchSender($transport, 'http://ingest.test', 'k')))->run();
        self::assertSame([450, 150], array_map(static fn (array $r): int => count($r['body']['events']), $transport->requests));
        self::assertSame([4, 2, 600], [$report['files'], $report['requests'], $report['delivered_events']]);
    }

    public function testInvalidEventsOfA202AreDroppedWithALogLineNotResent(): void
    {
        $spool = new Spool($this->dir . '/spool');
        $ids = $this->trackAndFail($spool, 503);
        $logger = new MemoryLogger();
        $transport = new ScriptedTransport(static fn (array $body): Response => ScriptedTransport::accepted($body, [['index' => 1, 'field' => 'jav_id', 'reason' => 'no such movie']]));
        $report = (new Resender($spool, new BatchSender($transport, 'http://ingest.test', 'k'), null, $logger))->run();
        self::assertSame([2, 1, 0], [$report['delivered_events'], $report['invalid_events'], $report['remaining']]);
        self::assertSame($ids[1], $logger->records[0]['context']['errors'][0]['event_id']);
    }

    public function testA400OfAMergedRequestIsNarrowedToTheBadFileWhichGoesToFailed(): void
    {
        $spool = new Spool($this->dir . '/spool');
        $this->trackAndFail($spool, 503);
        $bad = $this->trackAndFail($spool, 503);
        $this->trackAndFail($spool, 503);
        // The merged request is refused; then each file alone: only the second is refused.
        $transport = new ScriptedTransport(static fn (array $body): Response => in_array($bad[0], array_column($body['events'], 'event_id'), true)
            ? new Response(400, [], '{"error":{"code":"VALIDATION_FAILED"}}')
            : ScriptedTransport::accepted($body));
        $report = (new Resender($spool, new BatchSender($transport, 'http://ingest.test', 'k')))->run();
        self::assertSame(['files' => 3, 'requests' => 4, 'delivered_events' => 6, 'failed_files' => 1, 'remaining' => 0], array_intersect_key($report, array_flip(['files', 'requests', 'delivered_events', 'failed_files', 'remaining'])));
        $failed = glob($this->dir . '/spool/failed/*.json');
        self::assertCount(1, $failed);
        self::assertSame($bad, array_column($spool->read($failed[0])['events'], 'event_id'));
        self::assertStringStartsWith('400 ', (string) file_get_contents($failed[0] . '.response'));
    }

    public function testA503StopsTheRunKeepsEveryFileAndCountsForTheBreaker(): void
    {
        $spool = new Spool($this->dir . '/spool');
        $this->trackAndFail($spool, 503);
        $this->trackAndFail($spool, 503);
        $breakerFile = $this->dir . '/breaker.json';
        $transport = new ScriptedTransport(static fn (): Response => new Response(503, [], '{"error":{"code":"KAFKA_UNAVAILABLE"}}'));
        $report = (new Resender($spool, new BatchSender($transport, 'http://ingest.test', 'k'), new CircuitBreaker($breakerFile)))->run();
        self::assertSame(['files' => 0, 'requests' => 1, 'remaining' => 2, 'stopped' => '503 KAFKA_UNAVAILABLE'], array_intersect_key($report, array_flip(['files', 'requests', 'remaining', 'stopped'])));
        self::assertSame(1, (new CircuitBreaker($breakerFile))->state()['failures'], 'a failed resend counts for the breaker');
    }

    public function testA400OnTheWebPathGoesStraightToFailed(): void
    {
        $spool = new Spool($this->dir . '/spool');
        $this->trackAndFail($spool, 400);
        self::assertSame(0, $spool->count());
        self::assertCount(1, glob($this->dir . '/spool/failed/*.json'));
    }

    public function testBelowTheFreeSpaceFloorEventsAreCountedLostNotWritten(): void
    {
        $logger = new MemoryLogger();
        $spool = new Spool($this->dir . '/spool', PHP_INT_MAX);
        $client = new TallyClient(new BatchSender(ScriptedTransport::status(503), 'http://ingest.test', 'k'), spool: $spool, logger: $logger);
        $client->track(['type' => 'movie.viewed', 'jav_id' => 1]);
        self::assertSame(1, $client->flush()['lost']);
        self::assertSame(0, $spool->count());
        self::assertSame(1, $client->stats()['lost_events']);
        self::assertStringContainsString('min_free_mb', $logger->messages('error')[0]);
    }

    public function testTwoRunsDoNotSendTheSameFile(): void
    {
        $spool = new Spool($this->dir . '/spool');
        $this->trackAndFail($spool, 503);
        $held = $spool->lock(); // the other run, e.g. a slow one still going when the next minute starts
        self::assertNotNull($held);
        $transport = ScriptedTransport::accepting();
        $report = (new Resender($spool, new BatchSender($transport, 'http://ingest.test', 'k')))->run();
        self::assertTrue($report['locked']);
        self::assertSame([], $transport->requests);
        $spool->unlock($held);
        self::assertSame(1, (new Resender($spool, new BatchSender($transport, 'http://ingest.test', 'k')))->run()['files']);
    }

    public function testASuccessfulResendClosesTheBreaker(): void
    {
        $spool = new Spool($this->dir . '/spool');
        $breaker = new CircuitBreaker($this->dir . '/breaker.json', 3, 3600);
        for ($i = 0; $i < 3; $i++) {
            $breaker->recordFailure('503');
        }
        $this->trackAndFail($spool, 503);
        self::assertFalse($breaker->allow());
        (new Resender($spool, new BatchSender(ScriptedTransport::accepting(), 'http://ingest.test', 'k'), $breaker))->run();
        self::assertTrue($breaker->allow());
    }
}
