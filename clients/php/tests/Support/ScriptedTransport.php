<?php

declare(strict_types=1);

namespace Tally\Laravel\Tests\Support;

use Tally\Laravel\Http\Response;
use Tally\Laravel\Http\Transport;

/** Answers from a script (a callable per request) and records what was posted. */
final class ScriptedTransport implements Transport
{
    /** @var list<array{url: string, headers: array<string, string>, body: array<string, mixed>}> */
    public array $requests = [];

    /** @param \Closure(array<string, mixed> $body, int $n): Response $reply */
    public function __construct(private \Closure $reply)
    {
    }

    public static function accepting(): self
    {
        return new self(static fn (array $body): Response => self::accepted($body));
    }

    public static function status(int $status): self
    {
        return new self(static fn (): Response => $status === 0 ? Response::none('connection refused') : new Response($status, [], '{"error":{"code":"X","message":"x"}}'));
    }

    /** @param array<string, mixed> $body @param list<array<string, mixed>> $errors */
    public static function accepted(array $body, array $errors = []): Response
    {
        $n = count($body['events']);
        return new Response(202, ['content-type' => 'application/json'], json_encode(['accepted' => $n - count($errors), 'rejected' => count($errors), 'errors' => $errors]));
    }

    public function post(string $url, array $headers, string $body): Response
    {
        $decoded = json_decode($body, true);
        $this->requests[] = ['url' => $url, 'headers' => $headers, 'body' => $decoded];
        return ($this->reply)($decoded, count($this->requests) - 1);
    }

    /** @return list<string> every event_id posted, in order */
    public function eventIds(): array
    {
        $ids = [];
        foreach ($this->requests as $r) {
            foreach ($r['body']['events'] as $e) {
                $ids[] = $e['event_id'];
            }
        }
        return $ids;
    }
}
