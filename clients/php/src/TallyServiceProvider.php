<?php

declare(strict_types=1);

namespace Tally\Laravel;

use Illuminate\Contracts\Foundation\Application;
use Illuminate\Queue\Events\JobExceptionOccurred;
use Illuminate\Queue\Events\JobFailed;
use Illuminate\Queue\Events\JobProcessed;
use Illuminate\Support\ServiceProvider;
use Tally\Laravel\Console\ResendCommand;

/**
 * Registered by package auto-discovery (composer.json extra.laravel). Binds the client as a
 * singleton, flushes it when the app terminates (after the response was sent: PHP-FPM's
 * fastcgi_finish_request runs before terminate) and after every queued job, and registers
 * `tally:resend`.
 */
final class TallyServiceProvider extends ServiceProvider
{
    public function register(): void
    {
        $this->mergeConfigFrom(__DIR__ . '/../config/tally.php', 'tally');

        $this->app->singleton(TallyClient::class, static function (Application $app): TallyClient {
            return Factory::client((array) $app['config']->get('tally'), $app->make('log'), self::requestContext($app));
        });
        $this->app->alias(TallyClient::class, 'tally');
        $this->app->bind(Resender::class, static fn (Application $app): Resender => Factory::resender((array) $app['config']->get('tally'), $app->make('log')));
    }

    public function boot(): void
    {
        $this->publishes([__DIR__ . '/../config/tally.php' => $this->app->configPath('tally.php')], 'tally-config');
        $this->commands([ResendCommand::class]);

        $app = $this->app;
        // Only a client that was used has anything to flush; resolving it here would cost every request.
        $flush = static function () use ($app): void {
            if ($app->resolved(TallyClient::class)) {
                $app->make(TallyClient::class)->flush();
            }
        };
        // HTTP and console kernels both call terminate() at the end; a queue worker lives for many
        // jobs, so it flushes after each one instead (events of a failed job happened too).
        $app->terminating($flush);
        $app['events']->listen([JobProcessed::class, JobExceptionOccurred::class, JobFailed::class], $flush);

        $this->callAfterResolving('blade.compiler', static function ($blade): void {
            // @tallyBeacon or @tallyBeacon(auth()->id()): the beacon's script tag, with a user token.
            $blade->directive('tallyBeacon', static fn (string $expression): string => '<?php echo app(\\' . TallyClient::class . '::class)->beaconTag(' . $expression . '); ?>');
        });
    }

    /** The end user's ip and user agent, only inside a web request (console requests are fakes). */
    private static function requestContext(Application $app): \Closure
    {
        return static function () use ($app): array {
            if ($app->runningInConsole() || !$app->bound('request')) {
                return [];
            }
            $request = $app->make('request');
            return ['ip' => $request->ip(), 'user_agent' => $request->userAgent()];
        };
    }
}
