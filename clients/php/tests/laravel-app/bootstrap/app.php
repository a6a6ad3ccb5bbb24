<?php

// Laravel 8 from Debian's packages (include_path has /usr/share/php), then Composer's autoloader
// for the app and tally/laravel.
require_once 'Illuminate/autoload.php';
require __DIR__ . '/../vendor/autoload.php';

$app = new Illuminate\Foundation\Application($_ENV['APP_BASE_PATH'] ?? dirname(__DIR__));
$app->singleton(Illuminate\Contracts\Http\Kernel::class, App\Http\Kernel::class);
$app->singleton(Illuminate\Contracts\Console\Kernel::class, App\Console\Kernel::class);
$app->singleton(Illuminate\Contracts\Debug\ExceptionHandler::class, Illuminate\Foundation\Exceptions\Handler::class);

return $app;
