<?php

use Illuminate\Http\Request;
use Illuminate\Support\Facades\Route;

// A movie page. `?as=<user id>` stands in for a logged-in user (no auth in this skeleton).
Route::get('/movies/{id}', function (Request $request, int $id) {
    $userId = $request->query('as') !== null ? (int) $request->query('as') : null;
    $eventId = Tally::track(['type' => 'movie.viewed', 'jav_id' => $id, 'user_id' => $userId]);
    return response()->view('movie', ['id' => $id, 'userId' => $userId])->header('X-Tally-Event-Id', $eventId);
});
