<?php

declare(strict_types=1);

namespace Tally\Laravel\Tests\Support;

/** A real HTTP server (`php -S` with fake-ingest.php) on a free loopback port. */
final class FakeIngest
{
    /** @var resource */
    private $process;
    public readonly string $url;

    public function __construct(private readonly string $dir)
    {
        $port = self::freePort();
        $this->url = "http://127.0.0.1:{$port}";
        $this->process = proc_open(
            [PHP_BINARY, '-S', "127.0.0.1:{$port}", __DIR__ . '/fake-ingest.php'],
            [0 => ['file', '/dev/null', 'r'], 1 => ['file', '/dev/null', 'w'], 2 => ['file', '/dev/null', 'w']],
            $pipes,
            null,
            ['FAKE_INGEST_DIR' => $dir] + getenv(),
        );
        $deadline = microtime(true) + 5;
        while (($s = @stream_socket_client("tcp://127.0.0.1:{$port}", $errno, $errstr, 0.1)) === false) {
            if (microtime(true) > $deadline) {
                throw new \RuntimeException("php -S did not listen on {$port}");
            }
            usleep(20_000);
        }
        fclose($s);
    }

    public function reply(int $status, ?array $body = null, int $delayMs = 0): void
    {
        file_put_contents($this->dir . '/reply.json', json_encode(['status' => $status, 'body' => $body, 'delay_ms' => $delayMs]));
    }

    /** @return list<array<string, mixed>> */
    public function requests(): array
    {
        $file = $this->dir . '/requests.jsonl';
        return is_file($file) ? array_map(static fn (string $l): array => json_decode($l, true), file($file, FILE_IGNORE_NEW_LINES)) : [];
    }

    public function stop(): void
    {
        proc_terminate($this->process);
        proc_close($this->process);
    }

    public static function freePort(): int
    {
        $server = stream_socket_server('tcp://127.0.0.1:0');
        $port = (int) substr((string) strrchr(stream_socket_get_name($server, false), ':'), 1);
        fclose($server);
        return $port;
    }
}
