<?php

// The PHP side of bench/src/php-track.ts: php track-bench.php <ingest url> <server key> <refused url> <silent url> <dir>
// Prints one JSON object: the cost of track() per call, and of the flush at the end of a request
// (what Laravel's terminate() adds) with Tally up, refused, never answering, and with the breaker open.
declare(strict_types=1);

spl_autoload_register(static function (string $class): void {
    if (str_starts_with($class, 'Tally\\Laravel\\')) {
        require __DIR__ . '/../../clients/php/src/' . str_replace('\\', '/', substr($class, 14)) . '.php';
    }
});

use Tally\Laravel\BatchSender;
use Tally\Laravel\CircuitBreaker;
use Tally\Laravel\Http\Response;
use Tally\Laravel\Http\StreamTransport;
use Tally\Laravel\Http\Transport;
use Tally\Laravel\Spool;
use Tally\Laravel\TallyClient;

[, $up, $key, $refused, $silent, $dir] = $argv;
$context = static fn (): array => ['ip' => '203.0.113.7', 'user_agent' => 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0'];

/** Sends nothing: isolates track() from the network. */
final class NullTransport implements Transport
{
    public function post(string $url, array $headers, string $body): Response
    {
        return new Response(202, [], '{"accepted":0,"errors":[]}');
    }
}

// track(): 100 pages of 1,000 calls, buffer emptied between pages as terminate() would.
$client = new TallyClient(new BatchSender(new NullTransport(), 'http://x', 'k'), requestContext: $context);
$calls = 0;
$ns = 0;
for ($p = 0; $p < 100; $p++) {
    $t0 = hrtime(true);
    for ($i = 0; $i < 1000; $i++) {
        $client->track(['type' => 'movie.viewed', 'jav_id' => 1 + $i % 2000, 'user_id' => 7]);
    }
    $ns += hrtime(true) - $t0;
    $calls += 1000;
    $client->flush();
}
$result = ['track_us_per_call' => $ns / $calls / 1000, 'track_calls' => $calls, 'flush' => []];

/** Times `$pages` flushes of `$events` events each, one new client per page like one PHP request. */
function flushes(string $name, int $pages, int $events, callable $make): array
{
    $ms = [];
    $summary = ['sent' => 0, 'spooled' => 0, 'skipped' => 0];
    for ($p = 0; $p < $pages; $p++) {
        $client = $make();
        for ($i = 0; $i < $events; $i++) {
            $client->track(['type' => 'movie.viewed', 'jav_id' => 1 + ($p * $events + $i) % 2000, 'user_id' => 900_000 + $p]);
        }
        $t0 = hrtime(true);
        $s = $client->flush();
        $ms[] = (hrtime(true) - $t0) / 1e6;
        foreach ($summary as $k => $_) {
            $summary[$k] += $s[$k];
        }
    }
    sort($ms);
    $at = static fn (float $q): float => $ms[min(count($ms) - 1, (int) floor($q * count($ms)))];
    return ['scenario' => $name, 'pages' => $pages, 'events_per_page' => $events, 'mean_ms' => array_sum($ms) / count($ms), 'p50_ms' => $at(0.5), 'p99_ms' => $at(0.99), 'max_ms' => $ms[count($ms) - 1]] + $summary;
}

$transport = new StreamTransport(0.2, 0.5); // the config defaults
$spool = static fn (string $name): Spool => new Spool("{$dir}/{$name}/spool");
$breaker = static fn (string $name, int $failures = 3): CircuitBreaker => new CircuitBreaker("{$dir}/{$name}/breaker.json", $failures, 30);

foreach ([1, 10] as $n) {
    $result['flush'][] = flushes('up', 200, $n, static fn () => new TallyClient(new BatchSender($transport, $up, $key), $breaker('up'), $spool('up'), requestContext: $context));
}
// Refused with the breaker off (threshold unreachable): every page pays the attempt and the spool write.
$result['flush'][] = flushes('down: connection refused, every page tries', 200, 1, static fn () => new TallyClient(new BatchSender($transport, $refused, $key), $breaker('refused', PHP_INT_MAX), $spool('refused'), requestContext: $context));
// Breaker open: three failures first, then the pages only read the state, count the skip and spool.
$result['flush'][] = flushes('down: breaker open', 200, 1, static fn () => new TallyClient(new BatchSender($transport, $refused, $key), $breaker('open'), $spool('open'), requestContext: $context));
// Accepting and never answering: the worst case, bounded by the total timeout (0.5 s).
$result['flush'][] = flushes('down: never answers, breaker off', 5, 1, static fn () => new TallyClient(new BatchSender($transport, $silent, $key), $breaker('silent', PHP_INT_MAX), $spool('silent'), requestContext: $context));

echo json_encode($result), "\n";
