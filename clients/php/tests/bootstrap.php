<?php

declare(strict_types=1);

// Composer's autoloader when `composer dump-autoload` ran (it maps only src/ unless run with --dev);
// and always the same PSR-4 mapping by hand, so the tests run from a fresh checkout with only
// Debian's phpunit installed.
if (is_file(__DIR__ . '/../vendor/autoload.php')) {
    require __DIR__ . '/../vendor/autoload.php';
}
spl_autoload_register(static function (string $class): void {
    foreach (['Tally\\Laravel\\Tests\\' => __DIR__ . '/', 'Tally\\Laravel\\' => __DIR__ . '/../src/'] as $prefix => $dir) {
        if (str_starts_with($class, $prefix)) {
            $file = $dir . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
            if (is_file($file)) {
                require $file;
            }
            return;
        }
    }
});
// PSR-3 from Debian's php-psr-log (a dependency of phpunit's and Laravel's packages): the test logger implements it.
require_once 'Psr/Log/autoload.php';
