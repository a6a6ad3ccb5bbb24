<?php

declare(strict_types=1);

namespace Tally\Laravel;

/**
 * Batches that could not be sent, one JSON file each, for `tally:resend`.
 *
 * Written as a temp file then rename()d into place: rename is atomic within a directory, so a resend
 * run never reads half a batch, and a worker killed mid-write leaves only a `.tmp` file the resend
 * ignores. Names start with the time (microseconds) so batches resend roughly in tracking order.
 */
final class Spool
{
    /**
     * @param int $minFreeBytes refuse to write when the disk has less free: a day-long outage at
     *        100 pages/s is ~8.6 million small files, and a full disk would take the app down with it
     */
    public function __construct(private readonly string $dir, private readonly int $minFreeBytes = 0)
    {
    }

    public function dir(): string
    {
        return $this->dir;
    }

    /**
     * @param list<array<string, mixed>> $events
     * @param bool $failed straight into failed/ (a batch the server refused as a whole), never resent
     */
    public function write(array $events, string $reason, bool $failed = false): string
    {
        $dir = $failed ? $this->dir . '/failed' : $this->dir;
        $this->ensureDir($dir);
        $free = $this->minFreeBytes > 0 ? @disk_free_space($dir) : false;
        if ($free !== false && $free < $this->minFreeBytes) {
            throw new \RuntimeException(sprintf('tally: the spool disk has %d MB free, below spool.min_free_mb; events not kept', $free / 1048576));
        }
        $name = (new \DateTimeImmutable('now', new \DateTimeZone('UTC')))->format('Ymd\THis.u\Z') . '-' . bin2hex(random_bytes(4)) . '.json';
        $json = json_encode(['reason' => $reason, 'spooled_at' => Clock::iso(), 'events' => $events], JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_INVALID_UTF8_SUBSTITUTE | JSON_THROW_ON_ERROR);
        $tmp = $dir . '/.' . $name . '.tmp';
        if (@file_put_contents($tmp, $json) !== strlen($json) || !@rename($tmp, $dir . '/' . $name)) {
            @unlink($tmp);
            throw new \RuntimeException("tally: cannot write to the spool {$dir}");
        }
        return $dir . '/' . $name;
    }

    /** @return list<string> spooled batch files, oldest first */
    public function pending(): array
    {
        $files = glob($this->dir . '/*.json') ?: [];
        sort($files, SORT_STRING);
        return $files;
    }

    public function count(): int
    {
        return count(glob($this->dir . '/*.json') ?: []);
    }

    /** @return array{reason: string, events: list<array<string, mixed>>}|null null when unreadable */
    public function read(string $file): ?array
    {
        $raw = @file_get_contents($file);
        $batch = $raw === false ? null : json_decode($raw, true);
        return is_array($batch) && is_array($batch['events'] ?? null) ? $batch : null;
    }

    public function remove(string $file): void
    {
        @unlink($file);
    }

    /**
     * Keeps a batch the server will never accept out of the resend loop, with the answer beside it,
     * for a person to look at: failed/<name> and failed/<name>.response.
     */
    public function moveToFailed(string $file, string $why): string
    {
        $failed = $this->dir . '/failed';
        $this->ensureDir($failed);
        $target = $failed . '/' . basename($file);
        @file_put_contents($target . '.response', $why);
        @rename($file, $target);
        return $target;
    }

    /**
     * An exclusive, non-blocking flock on the spool: two overlapping `tally:resend` runs (a slow run
     * and the next minute's) would otherwise send the same file twice. The server would dedup it, but
     * the 400-handling (move to failed/) would race. null when another run holds it.
     *
     * @return resource|null
     */
    public function lock()
    {
        $this->ensureDir($this->dir);
        $handle = @fopen($this->dir . '/.resend.lock', 'c');
        if ($handle === false) {
            throw new \RuntimeException("tally: cannot open the spool lock in {$this->dir}");
        }
        if (!flock($handle, LOCK_EX | LOCK_NB)) {
            fclose($handle);
            return null;
        }
        return $handle;
    }

    /** @param resource $handle */
    public function unlock($handle): void
    {
        flock($handle, LOCK_UN);
        fclose($handle);
    }

    private function ensureDir(string $dir): void
    {
        if (!is_dir($dir) && !@mkdir($dir, 0775, true) && !is_dir($dir)) {
            throw new \RuntimeException("tally: cannot create the spool directory {$dir}");
        }
    }
}
