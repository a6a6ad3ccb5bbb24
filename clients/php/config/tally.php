<?php

// Published to config/tally.php by `php artisan vendor:publish --tag=tally-config`.
return [

    // false: Tally::track() assigns an event_id and does nothing else (local development, tests).
    'enabled' => env('TALLY_ENABLED', true),

    // Base URL of the ingest API; events go to <endpoint>/v1/events. An IP or a name in /etc/hosts
    // keeps DNS out of the page's time: name resolution has no timeout of its own.
    'endpoint' => env('TALLY_ENDPOINT', 'http://127.0.0.1:8080'),

    // A server key: only server keys may send the end user's ip and user_agent in the body.
    'server_key' => env('TALLY_SERVER_KEY'),

    // Seconds. One attempt per batch after the response: an outage costs a page at most `total`.
    'timeouts' => [
        'connect' => (float) env('TALLY_CONNECT_TIMEOUT', 0.2),
        'total' => (float) env('TALLY_TIMEOUT', 0.5),
    ],

    // After `failures` failed requests in a row, skip sending (spool only) for `cooldown` seconds.
    // The state is a small file shared by all PHP processes of this server (flock), next to the spool.
    'breaker' => [
        'failures' => (int) env('TALLY_BREAKER_FAILURES', 3),
        'cooldown' => (int) env('TALLY_BREAKER_COOLDOWN', 30),
        'path' => env('TALLY_BREAKER_PATH', storage_path('tally/breaker.json')),
    ],

    // Batches that could not be sent (no answer, timeout, 429, 5xx, breaker open), one file each,
    // for `php artisan tally:resend` (schedule it every minute). Disabled: they are dropped, logged.
    'spool' => [
        'enabled' => env('TALLY_SPOOL', true),
        'path' => env('TALLY_SPOOL_PATH', storage_path('tally/spool')),
        // Below this much free disk, unsent events are dropped (counted in lost_events, logged)
        // rather than filling the disk the app itself needs.
        'min_free_mb' => (int) env('TALLY_SPOOL_MIN_FREE_MB', 256),
    ],

    // tally:resend runs in the console, where waiting longer costs no page.
    'resend' => [
        'connect_timeout' => (float) env('TALLY_RESEND_CONNECT_TIMEOUT', 2.0),
        'timeout' => (float) env('TALLY_RESEND_TIMEOUT', 10.0),
        'max_files' => (int) env('TALLY_RESEND_MAX_FILES', 1000),
    ],

    // Signed user tokens for the browser beacon (a user_id sent with a browser key counts only with
    // one). The same secret is configured on the ingest API. TTL in seconds; at most 7 days.
    'user_token' => [
        'secret' => env('TALLY_USER_TOKEN_SECRET'),
        'ttl' => (int) env('TALLY_USER_TOKEN_TTL', 12 * 3600),
    ],

    // What Tally::beaconTag() / @tallyBeacon render: the script URL, the ingest URL as the browser
    // reaches it, and a browser key (never the server key: the page is public).
    'beacon' => [
        'src' => env('TALLY_BEACON_SRC', '/js/tally-beacon.js'),
        'endpoint' => env('TALLY_BEACON_ENDPOINT', env('TALLY_ENDPOINT', 'http://127.0.0.1:8080')),
        'browser_key' => env('TALLY_BROWSER_KEY'),
    ],

    // Buffered events beyond which track() flushes at once (long CLI loops); a page never reaches it.
    'max_buffer' => (int) env('TALLY_MAX_BUFFER', 5000),
];
