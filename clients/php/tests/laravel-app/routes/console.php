<?php

use App\Jobs\TrackView;
use Illuminate\Support\Facades\Artisan;
use Tally\Laravel\Facades\Tally;

// demo:job — a queued job (the sync driver runs it at once and fires the queue events a worker would).
Artisan::command('demo:job {jav} {user}', function (int $jav, int $user) {
    TrackView::dispatch($jav, $user);
    $this->line(json_encode(['pending_after_job' => Tally::pending(), 'stats' => Tally::stats()]));
});

// demo:cli — a console command: what it tracks is flushed when the console kernel terminates.
Artisan::command('demo:cli {jav} {user}', function (int $jav, int $user) {
    $id = Tally::track(['type' => 'movie.viewed', 'jav_id' => $jav, 'user_id' => $user]);
    $this->line(json_encode(['event_id' => $id, 'pending_before_exit' => Tally::pending()]));
});
