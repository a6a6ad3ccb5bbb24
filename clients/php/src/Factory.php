<?php

declare(strict_types=1);

namespace Tally\Laravel;

use Psr\Log\LoggerInterface;
use Tally\Laravel\Http\StreamTransport;

/**
 * Builds the client and the resender from the `tally` config array (config/tally.php), so the same
 * wiring serves Laravel (the service provider) and plain PHP scripts.
 */
final class Factory
{
    /** @param array<string, mixed> $config */
    public static function client(array $config, ?LoggerInterface $logger = null, ?\Closure $requestContext = null): TallyClient
    {
        $secret = (string) ($config['user_token']['secret'] ?? '');
        return new TallyClient(
            sender: self::sender($config, (float) ($config['timeouts']['connect'] ?? 0.2), (float) ($config['timeouts']['total'] ?? 0.5)),
            breaker: self::breaker($config, $logger),
            spool: self::spool($config),
            logger: $logger,
            requestContext: $requestContext,
            userTokens: $secret === '' ? null : new UserToken($secret, (int) ($config['user_token']['ttl'] ?? UserToken::DEFAULT_TTL_SECONDS)),
            beacon: array_filter((array) ($config['beacon'] ?? []), static fn ($v) => is_string($v) && $v !== ''),
            maxBuffer: max(1, (int) ($config['max_buffer'] ?? 5000)),
            enabled: filter_var($config['enabled'] ?? true, FILTER_VALIDATE_BOOLEAN),
        );
    }

    /** @param array<string, mixed> $config */
    public static function resender(array $config, ?LoggerInterface $logger = null): Resender
    {
        $spool = self::spool($config) ?? new Spool(self::defaultDir($config) . '/spool');
        return new Resender(
            $spool,
            self::sender($config, (float) ($config['resend']['connect_timeout'] ?? 2.0), (float) ($config['resend']['timeout'] ?? 10.0)),
            self::breaker($config, $logger),
            $logger,
        );
    }

    /** @param array<string, mixed> $config */
    private static function sender(array $config, float $connect, float $total): BatchSender
    {
        return new BatchSender(new StreamTransport($connect, $total), (string) ($config['endpoint'] ?? 'http://127.0.0.1:8080'), (string) ($config['server_key'] ?? ''));
    }

    /** @param array<string, mixed> $config */
    private static function breaker(array $config, ?LoggerInterface $logger): ?CircuitBreaker
    {
        $failures = (int) ($config['breaker']['failures'] ?? 3);
        if ($failures < 1) {
            return null; // 0 turns the breaker off
        }
        $path = (string) ($config['breaker']['path'] ?? '');
        return new CircuitBreaker($path !== '' ? $path : self::defaultDir($config) . '/breaker.json', $failures, (int) ($config['breaker']['cooldown'] ?? 30), $logger);
    }

    /** @param array<string, mixed> $config */
    private static function spool(array $config): ?Spool
    {
        if (!filter_var($config['spool']['enabled'] ?? true, FILTER_VALIDATE_BOOLEAN)) {
            return null;
        }
        $path = (string) ($config['spool']['path'] ?? '');
        return new Spool($path !== '' ? $path : self::defaultDir($config) . '/spool', (int) ($config['spool']['min_free_mb'] ?? 256) * 1048576);
    }

    /** Outside Laravel (no storage_path()): one directory per endpoint under the system temp dir. */
    private static function defaultDir(array $config): string
    {
        return sys_get_temp_dir() . '/tally-' . substr(sha1((string) ($config['endpoint'] ?? '')), 0, 12);
    }
}
