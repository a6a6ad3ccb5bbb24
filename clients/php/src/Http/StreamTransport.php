<?php

declare(strict_types=1);

namespace Tally\Laravel\Http;

/**
 * HTTP/1.1 POST over a plain PHP stream socket with a hard deadline.
 *
 * Why not the http:// stream wrapper: its `timeout` applies per read, not to the whole request, so a
 * server that trickles bytes can hold a PHP worker far beyond it; and ext-curl is not installed by
 * default. Here connect has its own limit and every later wait is bounded by what is left of the
 * total, so a request never costs more than `totalTimeout` (plus DNS: use an IP or a local resolver
 * cache for the endpoint, getaddrinfo has no timeout).
 */
final class StreamTransport implements Transport
{
    public function __construct(
        private readonly float $connectTimeout = 0.2,
        private readonly float $totalTimeout = 0.5,
    ) {
    }

    public function post(string $url, array $headers, string $body): Response
    {
        $u = parse_url($url);
        if ($u === false || !isset($u['host']) || !in_array($u['scheme'] ?? '', ['http', 'https'], true)) {
            return Response::none("invalid endpoint url {$url}");
        }
        $tls = $u['scheme'] === 'https';
        $port = $u['port'] ?? ($tls ? 443 : 80);
        $deadline = hrtime(true) + (int) ($this->totalTimeout * 1e9);
        $context = stream_context_create(['ssl' => ['peer_name' => $u['host'], 'SNI_enabled' => true]]);
        $errno = 0;
        $errstr = '';
        $socket = @stream_socket_client(
            ($tls ? 'tls://' : 'tcp://') . $u['host'] . ':' . $port,
            $errno,
            $errstr,
            min($this->connectTimeout, $this->totalTimeout),
            STREAM_CLIENT_CONNECT,
            $context,
        );
        if ($socket === false) {
            return Response::none("connect to {$u['host']}:{$port}: " . ($errstr !== '' ? $errstr : "error {$errno}"));
        }
        try {
            stream_set_blocking($socket, false);
            $path = ($u['path'] ?? '/') . (isset($u['query']) ? '?' . $u['query'] : '');
            $head = "POST {$path} HTTP/1.1\r\nHost: {$u['host']}" . (isset($u['port']) ? ":{$port}" : '') . "\r\n"
                . "Connection: close\r\nContent-Length: " . strlen($body) . "\r\n";
            foreach ($headers as $name => $value) {
                $head .= "{$name}: {$value}\r\n";
            }
            $error = $this->write($socket, $head . "\r\n" . $body, $deadline);
            if ($error !== null) {
                return Response::none($error);
            }
            return $this->read($socket, $deadline);
        } finally {
            fclose($socket);
        }
    }

    /** @param resource $socket */
    private function write($socket, string $data, int $deadline): ?string
    {
        while ($data !== '') {
            if (!$this->wait($socket, $deadline, true)) {
                return 'timeout while sending';
            }
            $n = @fwrite($socket, $data);
            if ($n === false) {
                return 'connection lost while sending';
            }
            $data = (string) substr($data, $n);
        }
        return null;
    }

    /** @param resource $socket */
    private function read($socket, int $deadline): Response
    {
        $buffer = '';
        while (true) {
            $response = self::parse($buffer, false);
            if ($response !== null) {
                return $response;
            }
            if (feof($socket)) {
                return self::parse($buffer, true) ?? Response::none('connection closed before a complete answer');
            }
            if (!$this->wait($socket, $deadline, false)) {
                return Response::none('timeout waiting for the answer');
            }
            $chunk = @fread($socket, 65536);
            if ($chunk === false) {
                return Response::none('connection lost while reading');
            }
            $buffer .= $chunk;
        }
    }

    /** @param resource $socket */
    private function wait($socket, int $deadline, bool $forWrite): bool
    {
        $left = $deadline - hrtime(true);
        if ($left <= 0) {
            return false;
        }
        $r = $forWrite ? null : [$socket];
        $w = $forWrite ? [$socket] : null;
        $e = null;
        $ready = @stream_select($r, $w, $e, intdiv($left, 1_000_000_000), intdiv($left % 1_000_000_000, 1000));
        return $ready !== false && $ready > 0;
    }

    /** A complete response from what was read so far, or null while more is expected. */
    private static function parse(string $buffer, bool $eof): ?Response
    {
        $end = strpos($buffer, "\r\n\r\n");
        if ($end === false) {
            return null;
        }
        $lines = explode("\r\n", substr($buffer, 0, $end));
        if (!preg_match('{^HTTP/\d(?:\.\d)?\s+(\d{3})}', (string) array_shift($lines), $m)) {
            return Response::none('not an HTTP answer');
        }
        $headers = [];
        foreach ($lines as $line) {
            $colon = strpos($line, ':');
            if ($colon !== false) {
                $headers[strtolower(trim(substr($line, 0, $colon)))] = trim(substr($line, $colon + 1));
            }
        }
        $body = (string) substr($buffer, $end + 4);
        if (str_contains(strtolower($headers['transfer-encoding'] ?? ''), 'chunked')) {
            $decoded = self::dechunk($body);
            return $decoded === null ? ($eof ? new Response((int) $m[1], $headers, $body) : null) : new Response((int) $m[1], $headers, $decoded);
        }
        if (isset($headers['content-length'])) {
            $length = (int) $headers['content-length'];
            return strlen($body) >= $length ? new Response((int) $m[1], $headers, substr($body, 0, $length)) : ($eof ? new Response((int) $m[1], $headers, $body) : null);
        }
        return $eof ? new Response((int) $m[1], $headers, $body) : null;
    }

    /** The body of a chunked transfer, or null while the last chunk has not arrived. */
    private static function dechunk(string $raw): ?string
    {
        $out = '';
        $at = 0;
        while (true) {
            $eol = strpos($raw, "\r\n", $at);
            if ($eol === false) {
                return null;
            }
            $size = hexdec(trim(explode(';', substr($raw, $at, $eol - $at))[0]));
            if ($size === 0) {
                return $out;
            }
            if (strlen($raw) < $eol + 2 + $size + 2) {
                return null;
            }
            $out .= substr($raw, $eol + 2, (int) $size);
            $at = $eol + 2 + (int) $size + 2;
        }
    }
}
