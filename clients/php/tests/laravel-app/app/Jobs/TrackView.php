<?php

namespace App\Jobs;

use Illuminate\Bus\Queueable;
use Illuminate\Contracts\Queue\ShouldQueue;
use Illuminate\Foundation\Bus\Dispatchable;
use Tally\Laravel\Facades\Tally;

/** A queued job that tracks an event: the provider flushes when the job ends (JobProcessed). */
class TrackView implements ShouldQueue
{
    use Dispatchable;
    use Queueable;

    public function __construct(public int $javId, public int $userId)
    {
    }

    public function handle(): void
    {
        Tally::track(['type' => 'movie.viewed', 'jav_id' => $this->javId, 'user_id' => $this->userId, 'ip' => '192.0.2.200']);
    }
}
