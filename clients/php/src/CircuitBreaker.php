<?php

declare(strict_types=1);

namespace Tally\Laravel;

use Psr\Log\LoggerInterface;

/**
 * Consecutive-failure circuit breaker whose state is one small JSON file shared by every PHP process
 * of the server (PHP-FPM workers are separate processes, so in-memory state would let each of, say,
 * 50 workers pay its own 3 timeouts before giving up).
 *
 * A file rather than the Laravel cache: it works with any cache driver (including `array` and none),
 * needs no extra round trip to Redis on every page, and flock() makes the read-modify-write atomic
 * across processes on one machine. With several web servers each has its own breaker, which is what
 * we want: a network problem is often one server's.
 *
 * closed ── N failures in a row ──▶ open (skip for cooldown s) ── cooldown over ──▶ one probe request
 *   ▲                                                                              │ fails: open again
 *   └──────────────────────────────── probe (or tally:resend) succeeds ◀───────────┘
 */
final class CircuitBreaker
{
    private const FRESH = ['failures' => 0, 'open_until' => 0.0, 'opened_total' => 0, 'skipped_events' => 0, 'skipped_batches' => 0, 'last_error' => null];

    /** @param \Closure(): float|null $clock unix seconds; tests move it */
    public function __construct(
        private readonly string $file,
        private readonly int $failureThreshold = 3,
        private readonly int $cooldownSeconds = 30,
        private readonly ?LoggerInterface $logger = null,
        private readonly ?\Closure $clock = null,
    ) {
    }

    /** Whether to try a request now. Past the cool-down the first caller claims the probe, others keep skipping. */
    public function allow(): bool
    {
        $state = $this->read();
        if ($state['open_until'] <= 0 || $state['failures'] < $this->failureThreshold) {
            return true;
        }
        if ($state['open_until'] > $this->now()) {
            return false;
        }
        return $this->update(function (array $s): array {
            if ($s['open_until'] > $this->now()) {
                return [$s, false]; // another process claimed the probe first
            }
            $s['open_until'] = $this->now() + $this->cooldownSeconds;
            return [$s, true];
        });
    }

    public function recordSuccess(): void
    {
        $state = $this->read();
        if ($state['failures'] === 0 && $state['open_until'] <= 0) {
            return; // the common case costs one read, no write
        }
        $this->update(function (array $s): array {
            if ($s['open_until'] > 0) {
                $this->logger?->info('tally: ingest API reachable again, circuit breaker closed', ['skipped_events' => $s['skipped_events']]);
            }
            $s['failures'] = 0;
            $s['open_until'] = 0.0;
            return [$s, null];
        });
    }

    public function recordFailure(string $reason): void
    {
        $this->update(function (array $s) use ($reason): array {
            $s['failures']++;
            $s['last_error'] = $reason;
            if ($s['failures'] >= $this->failureThreshold) {
                if ($s['open_until'] <= 0) {
                    $s['opened_total']++;
                    // Once per opening, not once per skipped page: an outage must not flood the log.
                    $this->logger?->warning("tally: circuit breaker open after {$s['failures']} failures in a row; events go to the spool for {$this->cooldownSeconds} s", ['last_error' => $reason]);
                }
                $s['open_until'] = $this->now() + $this->cooldownSeconds;
            }
            return [$s, null];
        });
    }

    public function recordSkipped(int $events): void
    {
        $this->update(static function (array $s) use ($events): array {
            $s['skipped_events'] += $events;
            $s['skipped_batches']++;
            return [$s, null];
        });
    }

    /** @return array{state: string, failures: int, open_until: float, opened_total: int, skipped_events: int, skipped_batches: int, last_error: ?string} */
    public function state(): array
    {
        $s = $this->read();
        $open = $s['failures'] >= $this->failureThreshold && $s['open_until'] > 0;
        return ['state' => !$open ? 'closed' : ($s['open_until'] > $this->now() ? 'open' : 'half-open')] + $s;
    }

    /** @return array<string, mixed> */
    private function read(): array
    {
        $handle = @fopen($this->file, 'r');
        if ($handle === false) {
            return self::FRESH;
        }
        // Shared lock: a writer truncates before it writes, and an empty read would look closed.
        flock($handle, LOCK_SH);
        $raw = (string) stream_get_contents($handle);
        flock($handle, LOCK_UN);
        fclose($handle);
        return self::decode($raw);
    }

    /**
     * Read-modify-write under an exclusive flock.
     * @template T
     * @param callable(array<string, mixed>): array{0: array<string, mixed>, 1: T} $change
     * @return T
     */
    private function update(callable $change): mixed
    {
        $dir = dirname($this->file);
        if (!is_dir($dir)) {
            @mkdir($dir, 0775, true);
        }
        $handle = @fopen($this->file, 'c+');
        if ($handle === false) {
            // An unwritable state file must not break pages: act as if closed, and say so once per process.
            static $warned = false;
            if (!$warned) {
                $warned = true;
                $this->logger?->error("tally: cannot write the circuit breaker state {$this->file}");
            }
            return $change(self::FRESH)[1];
        }
        try {
            flock($handle, LOCK_EX);
            [$state, $result] = $change(self::decode((string) stream_get_contents($handle)));
            ftruncate($handle, 0);
            rewind($handle);
            fwrite($handle, json_encode($state, JSON_THROW_ON_ERROR));
            fflush($handle);
            return $result;
        } finally {
            flock($handle, LOCK_UN);
            fclose($handle);
        }
    }

    /** @return array<string, mixed> */
    private static function decode(string $raw): array
    {
        $s = $raw === '' ? null : json_decode($raw, true);
        return is_array($s) ? array_intersect_key($s, self::FRESH) + self::FRESH : self::FRESH;
    }

    private function now(): float
    {
        return $this->clock !== null ? ($this->clock)() : microtime(true);
    }
}
