<?php

define('LARAVEL_START', microtime(true));

$app = require __DIR__ . '/../bootstrap/app.php';
$kernel = $app->make(Illuminate\Contracts\Http\Kernel::class);
$response = $kernel->handle($request = Illuminate\Http\Request::capture())->send();
// Under PHP-FPM send() ends with fastcgi_finish_request(): the user has the page, Tally's flush follows.
$kernel->terminate($request, $response);
