<?php

declare(strict_types=1);

namespace Tally\Laravel\Facades;

use Illuminate\Support\Facades\Facade;
use Tally\Laravel\TallyClient;

/**
 * @method static string track(array $event)
 * @method static array flush()
 * @method static int pending()
 * @method static array stats()
 * @method static string userToken(int $userId, ?int $ttlSeconds = null)
 * @method static string|\Stringable beaconTag(?int $userId = null, array $attributes = [])
 *
 * @see TallyClient
 */
final class Tally extends Facade
{
    protected static function getFacadeAccessor(): string
    {
        return TallyClient::class;
    }
}
