<?php

declare(strict_types=1);

namespace Tally\Laravel\Tests\Unit;

use PHPUnit\Framework\TestCase;
use Tally\Laravel\BatchSender;
use Tally\Laravel\Tests\Support\ScriptedTransport;
use Tally\Laravel\TallyClient;

final class BufferingTest extends TestCase
{
    private const UUID_V4 = '/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/';

    public function testTrackOnlyBuffersAndFlushSendsOneBatchWithTheServerKey(): void
    {
        $transport = ScriptedTransport::accepting();
        $client = new TallyClient(new BatchSender($transport, 'http://ingest.test:8080/', 'srv-key'),
            requestContext: static fn (): array => ['ip' => '203.0.113.9', 'user_agent' => 'Mozilla/5.0 (X11)']);

        $id = $client->track(['type' => 'movie.viewed', 'jav_id' => 42, 'user_id' => 7]);
        $client->track(['type' => 'movie.viewed', 'jav_id' => 43, 'user_id' => null, 'event_id' => 'given-id', 'occurred_at' => 1700000000000]);
        self::assertSame([], $transport->requests, 'track() must not send');
        self::assertSame(2, $client->pending());

        $summary = $client->flush();
        self::assertSame(2, $summary['sent']);
        self::assertCount(1, $transport->requests);
        [$request] = $transport->requests;
        self::assertSame('http://ingest.test:8080/v1/events', $request['url']);
        self::assertSame('Bearer srv-key', $request['headers']['Authorization']);
        self::assertSame('application/json', $request['headers']['Content-Type']);
        [$first, $second] = $request['body']['events'];
        self::assertMatchesRegularExpression(self::UUID_V4, $first['event_id']);
        self::assertSame($id, $first['event_id']);
        self::assertSame(['type' => 'movie.viewed', 'jav_id' => 42, 'user_id' => 7, 'ip' => '203.0.113.9', 'user_agent' => 'Mozilla/5.0 (X11)'], array_intersect_key($first, array_flip(['type', 'jav_id', 'user_id', 'ip', 'user_agent'])));
        self::assertNotFalse(strtotime($first['occurred_at']));
        self::assertNotFalse(strtotime($first['sent_at']));
        self::assertArrayNotHasKey('user_id', $second, 'a guest sends no user_id');
        self::assertSame(['given-id', 1700000000000], [$second['event_id'], $second['occurred_at']]);

        self::assertSame(0, $client->pending());
        $client->flush();
        self::assertCount(1, $transport->requests, 'an empty buffer sends nothing');
    }

    public function testMoreThan500EventsAreSplitIntoBatchesOfAtMost500(): void
    {
        $transport = ScriptedTransport::accepting();
        $client = new TallyClient(new BatchSender($transport, 'http://ingest.test', 'k'));
        for ($i = 0; $i < 1201; $i++) {
            $client->track(['type' => 'movie.viewed', 'jav_id' => $i + 1]);
        }
        self::assertSame(1201, $client->flush()['sent']);
        self::assertSame([500, 500, 201], array_map(static fn (array $r): int => count($r['body']['events']), $transport->requests));
        self::assertCount(1201, array_unique($transport->eventIds()));
    }

    public function testALongUserAgentIsCutTo512CharactersAndAFullBufferFlushes(): void
    {
        $transport = ScriptedTransport::accepting();
        $client = new TallyClient(new BatchSender($transport, 'http://ingest.test', 'k'), maxBuffer: 3);
        $client->track(['type' => 'movie.viewed', 'jav_id' => 1, 'user_agent' => str_repeat('é', 600)]);
        $client->track(['type' => 'movie.viewed', 'jav_id' => 2]);
        self::assertSame([], $transport->requests);
        $client->track(['type' => 'movie.viewed', 'jav_id' => 3]);
        self::assertCount(1, $transport->requests);
        self::assertSame(str_repeat('é', 512), $transport->requests[0]['body']['events'][0]['user_agent']);
    }

    public function testADisabledClientSendsNothing(): void
    {
        $transport = ScriptedTransport::accepting();
        $client = new TallyClient(new BatchSender($transport, 'http://ingest.test', 'k'), enabled: false);
        self::assertMatchesRegularExpression(self::UUID_V4, $client->track(['type' => 'movie.viewed', 'jav_id' => 1]));
        $client->flush();
        self::assertSame([], $transport->requests);
    }

    public function testTheBeaconTagCarriesEndpointBrowserKeyAndASignedUserToken(): void
    {
        $client = new TallyClient(new BatchSender(ScriptedTransport::accepting(), 'http://ingest.test', 'k'),
            userTokens: new \Tally\Laravel\UserToken('test-secret', clock: static fn (): int => 1999956800),
            beacon: ['src' => '/js/tally-beacon.js', 'endpoint' => 'https://t.example.com', 'browser_key' => 'dev-browser-key']);
        self::assertSame(
            '<script src="/js/tally-beacon.js" data-endpoint="https://t.example.com/v1/events" data-key="dev-browser-key" data-user-token="v1.42.2000000000.r4GY2LmeKC19CzrvoXKl4R-jnDiA9ravp10Ac-UruY4" nonce="a&quot;b" defer></script>',
            (string) $client->beaconTag(42, ['nonce' => 'a"b']),
        );
        self::assertStringNotContainsString('data-user-token', (string) $client->beaconTag(null));
        self::assertSame('v1.42.2000000000.r4GY2LmeKC19CzrvoXKl4R-jnDiA9ravp10Ac-UruY4', $client->userToken(42));
    }
}
