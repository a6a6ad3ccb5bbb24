<?php

// One page request as PHP-FPM would serve it, from the command line: php page.php <uri> <ip> <user agent>
// Prints {status, headers, body, terminate_ms, stats} as JSON. terminate_ms is the time the user does
// NOT wait for under PHP-FPM (after fastcgi_finish_request) but the worker does: Tally's flush.

// A web SAPI: Laravel would otherwise treat this as the console and Tally would not forward the ip.
putenv('APP_RUNNING_IN_CONSOLE=false');
$_ENV['APP_RUNNING_IN_CONSOLE'] = $_SERVER['APP_RUNNING_IN_CONSOLE'] = 'false';

$app = require __DIR__ . '/bootstrap/app.php';
$kernel = $app->make(Illuminate\Contracts\Http\Kernel::class);
$request = Illuminate\Http\Request::create($argv[1], 'GET', [], [], [], ['REMOTE_ADDR' => $argv[2], 'HTTP_USER_AGENT' => $argv[3]]);
$response = $kernel->handle($request);
$t0 = hrtime(true);
$kernel->terminate($request, $response);
$terminateMs = (hrtime(true) - $t0) / 1e6;
echo json_encode([
    'status' => $response->getStatusCode(),
    'event_id' => $response->headers->get('X-Tally-Event-Id'),
    'body' => $response->getContent(),
    'terminate_ms' => $terminateMs,
    'stats' => Tally::stats(),
]), "\n";
