<?php

declare(strict_types=1);

namespace Tally\Laravel;

use Tally\Laravel\Http\Transport;

/** Sends one batch to POST /v1/events with the server key; the only place a request is built. */
final class BatchSender
{
    /** The ingest API's MAX_EVENTS_PER_REQUEST default; more is answered 413. */
    public const MAX_EVENTS = 500;

    public function __construct(
        private readonly Transport $transport,
        private readonly string $endpoint,
        private readonly string $serverKey,
    ) {
    }

    public static function eventsUrl(string $endpoint): string
    {
        return rtrim($endpoint, '/') . '/v1/events';
    }

    /** @param list<array<string, mixed>> $events at most MAX_EVENTS, with event_id and occurred_at set */
    public function send(array $events): Outcome
    {
        // sent_at at send time, not track time: the server corrects clock skew from (received_at - sent_at),
        // and a spooled batch resent an hour later must not look like an hour of skew.
        $sentAt = Clock::iso();
        $batch = array_map(static fn (array $e): array => ['sent_at' => $sentAt] + $e, $events);
        $json = json_encode(['events' => $batch], JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_INVALID_UTF8_SUBSTITUTE | JSON_THROW_ON_ERROR);
        $response = $this->transport->post(self::eventsUrl($this->endpoint), [
            'Content-Type' => 'application/json',
            'Authorization' => 'Bearer ' . $this->serverKey,
            'User-Agent' => 'tally-laravel/1',
        ], $json);
        return Outcome::of($response, $events);
    }
}
