<?php

declare(strict_types=1);

namespace Tally\Laravel;

/**
 * Signed user tokens for the browser beacon: a user_id sent with a browser key counts only with a
 * token the app's back end signed, so a visitor cannot claim to be another user.
 *
 * Format (the ingest API checks it byte for byte): v1.<user_id>.<expires>.<sig>, where sig is
 * base64url without padding of HMAC-SHA256(secret, "v1.<user_id>.<expires>").
 */
final class UserToken
{
    /** The server refuses tokens expiring further ahead: a leaked token must not live for months. */
    public const MAX_TTL_SECONDS = 7 * 86400;
    public const DEFAULT_TTL_SECONDS = 12 * 3600;

    /** @param \Closure(): int|null $clock unix seconds; tests pin it */
    public function __construct(
        private readonly string $secret,
        private readonly int $defaultTtlSeconds = self::DEFAULT_TTL_SECONDS,
        private readonly ?\Closure $clock = null,
    ) {
        if ($secret === '') {
            throw new \InvalidArgumentException('tally: user_token.secret (TALLY_USER_TOKEN_SECRET) is empty');
        }
    }

    public function issue(int $userId, ?int $ttlSeconds = null): string
    {
        $ttl = $ttlSeconds ?? $this->defaultTtlSeconds;
        if ($ttl < 1 || $ttl > self::MAX_TTL_SECONDS) {
            throw new \InvalidArgumentException("tally: a user token ttl must be 1..604800 seconds, got {$ttl}");
        }
        $now = $this->clock !== null ? ($this->clock)() : time();
        return self::sign($this->secret, $userId, $now + $ttl);
    }

    public static function sign(string $secret, int $userId, int $expires): string
    {
        if ($userId < 1) {
            throw new \InvalidArgumentException("tally: user_id must be a positive integer, got {$userId}");
        }
        $message = "v1.{$userId}.{$expires}";
        $mac = hash_hmac('sha256', $message, $secret, true);
        return $message . '.' . rtrim(strtr(base64_encode($mac), '+/', '-_'), '=');
    }
}
