<?php

declare(strict_types=1);

namespace App\Support\Tally;

/**
 * Sends events to the Tally ingest API from a PHP back end, with a server key, forwarding the end
 * user's IP and User-Agent (only server keys may set them; a browser key would be refused).
 *
 * Uses PHP's HTTP stream wrapper rather than ext-curl or Laravel's Http facade, so it runs on any PHP
 * 8.1+ install and in plain scripts; see docs/php-example.md for the Laravel wiring.
 *
 * Retries: 429, 5xx and network failures are retried with the SAME event ids (the server dedups on
 * event_id, so a retried event counts once), honouring Retry-After. Other 4xx are returned, not retried:
 * the same body would be refused again.
 */
final class TallyClient
{
    public function __construct(
        private readonly string $endpoint,
        private readonly string $serverKey,
        private readonly int $maxRetries = 3,
        private readonly int $retryBaseMs = 200,
        // A web request should not hang on analytics; dispatch after the response to allow more.
        private readonly int $retryMaxMs = 5000,
        private readonly float $timeoutSeconds = 2.0,
    ) {
    }

    /** @param array{endpoint: string, key: string, max_retries?: int, timeout?: float} $config e.g. config('services.tally') */
    public static function fromConfig(array $config): self
    {
        return new self(
            $config['endpoint'],
            $config['key'],
            $config['max_retries'] ?? 3,
            timeoutSeconds: $config['timeout'] ?? 2.0,
        );
    }

    /**
     * Sends one event on behalf of an end user. Pass $request->ip() and $request->userAgent() (with
     * TrustProxies configured, so ip() is the user's address, not the load balancer's).
     *
     * @param array<string, mixed> $event e.g. ['type' => 'movie.viewed', 'jav_id' => 42, 'user_id' => 7]
     * @return array{status: int, body: mixed, attempts: int}
     */
    public function track(array $event, ?string $ip = null, ?string $userAgent = null): array
    {
        if ($ip !== null) {
            $event['ip'] = $ip;
        }
        if ($userAgent !== null) {
            // 512 characters is the schema's limit, longer is refused; preg with /u counts characters without ext-mbstring.
            $event['user_agent'] = preg_replace('/^(.{512}).+$/su', '$1', $userAgent) ?? $userAgent;
        }
        return $this->send([$event]);
    }

    /**
     * Sends a batch (at most 500 events). Ids and times are fixed before the first attempt, so every
     * retry carries the same event_id and occurred_at; sent_at is refreshed per attempt because the
     * server corrects clock skew from it.
     *
     * @param list<array<string, mixed>> $events
     * @return array{status: int, body: mixed, attempts: int} status 0 when no attempt got an answer
     */
    public function send(array $events): array
    {
        $now = self::nowIso();
        foreach ($events as $i => $event) {
            $events[$i]['event_id'] ??= self::uuidV4();
            $events[$i]['occurred_at'] ??= $now;
        }

        $result = ['status' => 0, 'body' => null, 'attempts' => 0];
        for ($attempt = 0; $attempt <= $this->maxRetries; $attempt++) {
            $sentAt = self::nowIso();
            $batch = array_map(static fn (array $e): array => ['sent_at' => $sentAt] + $e, $events);
            [$status, $headers, $body] = $this->post(json_encode(['events' => $batch], JSON_THROW_ON_ERROR));
            $result = ['status' => $status, 'body' => json_decode($body, true), 'attempts' => $attempt + 1];

            $retriable = $status === 0 || $status === 429 || $status >= 500;
            if (!$retriable || $attempt === $this->maxRetries) {
                break;
            }
            usleep($this->delayMs($attempt, self::retryAfterMs($headers)) * 1000);
        }
        return $result;
    }

    /** @return array{0: int, 1: list<string>, 2: string} status (0 on a network failure), headers, body */
    private function post(string $json): array
    {
        $context = stream_context_create(['http' => [
            'method' => 'POST',
            'header' => "Content-Type: application/json\r\nAuthorization: Bearer {$this->serverKey}\r\n",
            'content' => $json,
            'timeout' => $this->timeoutSeconds,
            'ignore_errors' => true, // read 4xx/5xx bodies instead of getting false
            'follow_location' => 0, // a redirect would turn the POST into a GET and lose the events
        ]]);
        $body = @file_get_contents($this->endpoint, false, $context);
        // PHP 8.4 adds http_get_last_response_headers(); $http_response_header is the older way.
        $headers = function_exists('http_get_last_response_headers')
            ? (http_get_last_response_headers() ?? [])
            : ($http_response_header ?? []);
        if ($body === false || $headers === []) {
            return [0, [], ''];
        }
        preg_match('{^HTTP/\S+\s+(\d{3})}', $headers[0], $m);
        return [(int) ($m[1] ?? 0), $headers, $body];
    }

    /** Full jitter below an exponential ceiling; Retry-After is a floor, waiting less would be refused again. */
    private function delayMs(int $attempt, ?int $retryAfterMs): int
    {
        $ceiling = min($this->retryMaxMs, $this->retryBaseMs * (2 ** $attempt));
        return max(random_int(0, $ceiling), $retryAfterMs ?? 0);
    }

    /** @param list<string> $headers */
    private static function retryAfterMs(array $headers): ?int
    {
        foreach ($headers as $line) {
            if (preg_match('/^Retry-After:\s*(\d+)\s*$/i', $line, $m)) {
                return (int) $m[1] * 1000;
            }
        }
        return null;
    }

    private static function nowIso(): string
    {
        return (new \DateTimeImmutable('now', new \DateTimeZone('UTC')))->format('Y-m-d\TH:i:s.v\Z');
    }

    private static function uuidV4(): string
    {
        $b = random_bytes(16);
        $b[6] = chr((ord($b[6]) & 0x0f) | 0x40); // version 4
        $b[8] = chr((ord($b[8]) & 0x3f) | 0x80); // variant 10xx
        return vsprintf('%s%s-%s-%s-%s-%s%s%s', str_split(bin2hex($b), 4));
    }
}
