<?php

declare(strict_types=1);

namespace Tally\Laravel\Tests\Unit;

use PHPUnit\Framework\TestCase;
use Tally\Laravel\BatchSender;
use Tally\Laravel\CircuitBreaker;
use Tally\Laravel\Http\StreamTransport;
use Tally\Laravel\Spool;
use Tally\Laravel\TallyClient;
use Tally\Laravel\Tests\Support\FakeIngest;
use Tally\Laravel\Tests\Support\TempDir;

/** The real socket path: a local HTTP server, a refused port, and a server that never answers. */
final class StreamTransportTest extends TestCase
{
    use TempDir;

    public function testPostsTheBatchOverHttpAndReadsTheAnswer(): void
    {
        $ingest = new FakeIngest($this->dir);
        try {
            $client = new TallyClient(new BatchSender(new StreamTransport(0.2, 2.0), $ingest->url, 'srv-key'));
            $id = $client->track(['type' => 'movie.viewed', 'jav_id' => 5, 'user_agent' => 'Mozilla/5.0 ünïcode']);
            self::assertSame(1, $client->flush()['sent']);
            [$request] = $ingest->requests();
            self::assertSame(['POST', '/v1/events', 'Bearer srv-key', 'application/json'], [$request['method'], $request['uri'], $request['authorization'], $request['content_type']]);
            self::assertSame($id, $request['body']['events'][0]['event_id']);
            self::assertSame('Mozilla/5.0 ünïcode', $request['body']['events'][0]['user_agent']);

            $ingest->reply(503, ['error' => ['code' => 'KAFKA_UNAVAILABLE', 'message' => 'down']]);
            $response = (new StreamTransport(0.2, 2.0))->post($ingest->url . '/v1/events', [], '{"events":[]}');
            self::assertSame(503, $response->status);
            self::assertSame('KAFKA_UNAVAILABLE', $response->json()['error']['code']);
        } finally {
            $ingest->stop();
        }
    }

    public function testARefusedConnectionFailsFastAndIsSpooled(): void
    {
        $spool = new Spool($this->dir . '/spool');
        $client = new TallyClient(new BatchSender(new StreamTransport(0.2, 0.5), 'http://127.0.0.1:' . FakeIngest::freePort(), 'k'), new CircuitBreaker($this->dir . '/b.json'), $spool);
        $client->track(['type' => 'movie.viewed', 'jav_id' => 1]);
        $t0 = hrtime(true);
        self::assertSame(1, $client->flush()['spooled']);
        self::assertLessThan(100, (hrtime(true) - $t0) / 1e6);
        self::assertSame(1, $client->stats()['failed_requests']);
    }

    public function testAServerThatNeverAnswersCostsNoMoreThanTheTotalTimeout(): void
    {
        // Listening but never accepting: the kernel completes the handshake, no byte ever comes back.
        $server = stream_socket_server('tcp://127.0.0.1:0');
        $url = 'http://' . stream_socket_get_name($server, false);
        try {
            $t0 = hrtime(true);
            $response = (new StreamTransport(0.2, 0.3))->post($url . '/v1/events', [], '{"events":[]}');
            $ms = (hrtime(true) - $t0) / 1e6;
            self::assertSame(0, $response->status);
            self::assertStringContainsString('timeout', (string) $response->error);
            self::assertGreaterThanOrEqual(295, $ms);
            self::assertLessThan(400, $ms);
        } finally {
            fclose($server);
        }
    }

    public function testASlowAnswerIsCutAtTheDeadline(): void
    {
        $ingest = new FakeIngest($this->dir);
        try {
            $ingest->reply(202, null, 1500);
            $t0 = hrtime(true);
            $response = (new StreamTransport(0.2, 0.4))->post($ingest->url . '/v1/events', [], '{"events":[]}');
            self::assertSame(0, $response->status);
            self::assertLessThan(500, (hrtime(true) - $t0) / 1e6);
        } finally {
            $ingest->stop();
        }
    }
}
