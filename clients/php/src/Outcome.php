<?php

declare(strict_types=1);

namespace Tally\Laravel;

use Tally\Laravel\Http\Response;

/**
 * What one batch request came to, as data: the web flush and `tally:resend` act on the same three
 * kinds, so a response code means the same thing on both paths.
 *
 *   accepted  2xx: delivered; events listed in `errors` were invalid and are dropped (sending them
 *             again would be refused again)
 *   refused   400, 413, 415: the whole batch can never pass; kept aside in failed/, never resent
 *   retry     no answer, timeout, 429, 5xx, and 401/403/404 (a key or endpoint to fix): spooled and
 *             resent later with the same event ids; counts as a failure for the breaker
 */
final class Outcome
{
    public const ACCEPTED = 'accepted';
    public const REFUSED = 'refused';
    public const RETRY = 'retry';

    /** @param list<array<string, mixed>> $invalid the server's errors[] with the event_id added */
    private function __construct(
        public readonly string $kind,
        public readonly Response $response,
        public readonly array $invalid = [],
    ) {
    }

    /** @param list<array<string, mixed>> $events the batch as sent */
    public static function of(Response $response, array $events): self
    {
        $status = $response->status;
        if ($status >= 200 && $status < 300) {
            $invalid = [];
            foreach ($response->json()['errors'] ?? [] as $error) {
                if (is_array($error)) {
                    $index = $error['index'] ?? null;
                    $invalid[] = $error + ['event_id' => is_int($index) ? ($events[$index]['event_id'] ?? null) : null];
                }
            }
            return new self(self::ACCEPTED, $response, $invalid);
        }
        if (in_array($status, [400, 413, 415], true)) {
            return new self(self::REFUSED, $response);
        }
        return new self(self::RETRY, $response);
    }

    /** A short reason for logs and spool files: "503", "timeout waiting for the answer". */
    public function reason(): string
    {
        if ($this->response->status === 0) {
            return (string) $this->response->error;
        }
        $code = $this->response->json()['error']['code'] ?? null;
        return (string) $this->response->status . (is_string($code) ? " {$code}" : '');
    }
}
