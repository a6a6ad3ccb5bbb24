<?php

declare(strict_types=1);

namespace Tally\Laravel;

use Psr\Log\LoggerInterface;

/**
 * The client behind the `Tally` facade. track() only appends to an in-memory buffer (a few
 * microseconds); flush() sends the buffer as batches of at most 500 events, once, after the response
 * has gone out (the service provider calls it from the app's terminating callbacks and after each
 * queued job). A flush makes ONE attempt per batch with short timeouts and never sleeps: what does
 * not go through is spooled for `tally:resend`, so a Tally outage costs a page at most one timeout,
 * and nothing once the breaker is open.
 */
final class TallyClient
{
    /** The ingest schema's limit for user_agent; longer is refused. */
    private const USER_AGENT_MAX = 512;

    /** @var list<array<string, mixed>> */
    private array $buffer = [];

    /** @var array<string, int> this process's counts since start */
    private array $counts = [
        'tracked' => 0, 'sent_events' => 0, 'sent_batches' => 0, 'invalid_events' => 0, 'refused_events' => 0,
        'failed_requests' => 0, 'skipped_events' => 0, 'spooled_events' => 0, 'lost_events' => 0,
    ];

    /**
     * @param \Closure(): array{ip?: ?string, user_agent?: ?string}|null $requestContext the end user's ip and
     *        user agent of the current web request ([] outside one: console, queue)
     * @param array{src?: string, endpoint?: string, browser_key?: string} $beacon
     */
    public function __construct(
        private readonly BatchSender $sender,
        private readonly ?CircuitBreaker $breaker = null,
        private readonly ?Spool $spool = null,
        private readonly ?LoggerInterface $logger = null,
        private readonly ?\Closure $requestContext = null,
        private readonly ?UserToken $userTokens = null,
        private readonly array $beacon = [],
        private readonly int $maxBuffer = 5000,
        private readonly bool $enabled = true,
    ) {
    }

    /**
     * Buffers one event; returns its event_id. event_id (UUID v4) and occurred_at (now) are set unless
     * given; a null user_id (a guest) is left out; the current request's ip and user agent are added
     * unless given (the ingest API takes them from the body only with a server key).
     *
     * @param array<string, mixed> $event e.g. ['type' => 'movie.viewed', 'jav_id' => 42, 'user_id' => 7]
     */
    public function track(array $event): string
    {
        $event['event_id'] ??= Clock::uuidV4();
        if (!$this->enabled) {
            return (string) $event['event_id'];
        }
        $event['occurred_at'] ??= Clock::iso();
        if (array_key_exists('user_id', $event) && $event['user_id'] === null) {
            unset($event['user_id']);
        }
        if ($this->requestContext !== null) {
            $context = ($this->requestContext)();
            if (!isset($event['ip']) && isset($context['ip'])) {
                $event['ip'] = $context['ip'];
            }
            if (!isset($event['user_agent']) && isset($context['user_agent'])) {
                $event['user_agent'] = $context['user_agent'];
            }
        }
        if (isset($event['user_agent']) && strlen((string) $event['user_agent']) > self::USER_AGENT_MAX) {
            // preg with /u counts characters, not bytes, without needing ext-mbstring.
            $event['user_agent'] = preg_replace('/^(.{' . self::USER_AGENT_MAX . '}).+$/su', '$1', (string) $event['user_agent']) ?? $event['user_agent'];
        }
        $this->buffer[] = $event;
        $this->counts['tracked']++;
        if (count($this->buffer) >= $this->maxBuffer) {
            // A long CLI loop must not grow memory without bound; a web page never gets here.
            $this->flush();
        }
        return (string) $event['event_id'];
    }

    /** Events tracked and not yet flushed. */
    public function pending(): int
    {
        return count($this->buffer);
    }

    /**
     * Sends what is buffered, now. Never throws and never sleeps.
     *
     * @return array{sent: int, invalid: int, refused: int, spooled: int, skipped: int, lost: int}
     */
    public function flush(): array
    {
        $summary = ['sent' => 0, 'invalid' => 0, 'refused' => 0, 'spooled' => 0, 'skipped' => 0, 'lost' => 0];
        $events = $this->buffer;
        $this->buffer = [];
        $failure = null;
        foreach (array_chunk($events, BatchSender::MAX_EVENTS) as $batch) {
            try {
                if ($failure !== null) {
                    // One attempt per flush: after a failure the rest waits in the spool, not in the page.
                    $this->keep($batch, $failure, $summary);
                } elseif ($this->breaker !== null && !$this->breaker->allow()) {
                    $this->breaker->recordSkipped(count($batch));
                    $this->counts['skipped_events'] += count($batch);
                    $summary['skipped'] += count($batch);
                    $this->keep($batch, 'circuit breaker open', $summary);
                } else {
                    $failure = $this->settle($this->sender->send($batch), $batch, $summary);
                }
            } catch (\Throwable $e) {
                $this->counts['lost_events'] += count($batch);
                $summary['lost'] += count($batch);
                $this->logger?->error('tally: could not send or spool ' . count($batch) . ' events: ' . $e->getMessage());
            }
        }
        return $summary;
    }

    /**
     * @return array<string, mixed> this process's counts, what is buffered, the breaker's shared state
     *         (with skipped_events over all processes) and the number of spooled batch files
     */
    public function stats(): array
    {
        return $this->counts + [
            'buffered' => count($this->buffer),
            'breaker' => $this->breaker?->state(),
            'spool' => $this->spool === null ? null : ['path' => $this->spool->dir(), 'files' => $this->spool->count()],
        ];
    }

    /** A token that lets the browser beacon send this user's id with the browser key. */
    public function userToken(int $userId, ?int $ttlSeconds = null): string
    {
        if ($this->userTokens === null) {
            throw new \LogicException('tally: set tally.user_token.secret (TALLY_USER_TOKEN_SECRET) to issue user tokens');
        }
        return $this->userTokens->issue($userId, $ttlSeconds);
    }

    /**
     * The beacon's script tag: data-endpoint and data-key for the beacon, and data-user-token for a
     * logged-in user (omitted for guests, or when no secret is configured).
     *
     * @param array<string, string|bool> $attributes extra attributes (nonce, id); true renders a bare attribute
     */
    public function beaconTag(?int $userId = null, array $attributes = []): string|\Stringable
    {
        $attrs = ['src' => $this->beacon['src'] ?? '/js/tally-beacon.js'];
        if (isset($this->beacon['endpoint'])) {
            $attrs['data-endpoint'] = BatchSender::eventsUrl($this->beacon['endpoint']);
        }
        if (isset($this->beacon['browser_key'])) {
            $attrs['data-key'] = $this->beacon['browser_key'];
        }
        if ($userId !== null && $this->userTokens !== null) {
            $attrs['data-user-token'] = $this->userTokens->issue($userId);
        }
        $html = '<script';
        foreach ($attrs + $attributes + ['defer' => true] as $name => $value) {
            if ($value === false) {
                continue;
            }
            $html .= ' ' . htmlspecialchars((string) $name, ENT_QUOTES | ENT_SUBSTITUTE)
                . ($value === true ? '' : '="' . htmlspecialchars((string) $value, ENT_QUOTES | ENT_SUBSTITUTE) . '"');
        }
        $html .= '></script>';
        // HtmlString so `{{ Tally::beaconTag(...) }}` in Blade does not escape the tag.
        return class_exists(\Illuminate\Support\HtmlString::class) ? new \Illuminate\Support\HtmlString($html) : $html;
    }

    /**
     * @param list<array<string, mixed>> $batch
     * @param array<string, int> $summary
     * @return string|null the failure that stops this flush
     */
    private function settle(Outcome $outcome, array $batch, array &$summary): ?string
    {
        $n = count($batch);
        switch ($outcome->kind) {
            case Outcome::ACCEPTED:
                $this->breaker?->recordSuccess();
                $invalid = count($outcome->invalid);
                $this->counts['sent_batches']++;
                $this->counts['sent_events'] += $n - $invalid;
                $this->counts['invalid_events'] += $invalid;
                $summary['sent'] += $n - $invalid;
                $summary['invalid'] += $invalid;
                if ($invalid > 0) {
                    $this->logger?->warning("tally: the ingest API refused {$invalid} invalid events", ['errors' => $outcome->invalid]);
                }
                return null;
            case Outcome::REFUSED:
                $this->breaker?->recordSuccess(); // the server is up, the batch is wrong
                $this->counts['refused_events'] += $n;
                $summary['refused'] += $n;
                $this->logger?->error("tally: the ingest API refused a batch of {$n} events: " . $outcome->reason(), ['body' => substr($outcome->response->body, 0, 2000)]);
                $this->spool?->write($batch, $outcome->reason(), true);
                return null;
            default:
                $this->counts['failed_requests']++;
                $this->breaker?->recordFailure($outcome->reason());
                if ($this->breaker === null) {
                    $this->logger?->warning('tally: sending failed: ' . $outcome->reason());
                }
                $this->keep($batch, $outcome->reason(), $summary);
                return $outcome->reason();
        }
    }

    /**
     * @param list<array<string, mixed>> $batch
     * @param array<string, int> $summary
     */
    private function keep(array $batch, string $reason, array &$summary): void
    {
        if ($this->spool === null) {
            $this->counts['lost_events'] += count($batch);
            $summary['lost'] += count($batch);
            $this->logger?->warning('tally: ' . count($batch) . " events dropped ({$reason}); configure tally.spool to keep them");
            return;
        }
        $this->spool->write($batch, $reason);
        $this->counts['spooled_events'] += count($batch);
        $summary['spooled'] += count($batch);
    }
}
