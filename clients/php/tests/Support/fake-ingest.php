<?php

// Router for `php -S`: a stand-in ingest API that records each request (one JSON line) in
// $FAKE_INGEST_DIR/requests.jsonl and answers with $FAKE_INGEST_DIR/reply.json when present, else 202.
$dir = (string) getenv('FAKE_INGEST_DIR');
$body = (string) file_get_contents('php://input');
file_put_contents($dir . '/requests.jsonl', json_encode([
    'method' => $_SERVER['REQUEST_METHOD'],
    'uri' => $_SERVER['REQUEST_URI'],
    'authorization' => $_SERVER['HTTP_AUTHORIZATION'] ?? null,
    'content_type' => $_SERVER['CONTENT_TYPE'] ?? null,
    'body' => json_decode($body, true),
]) . "\n", FILE_APPEND | LOCK_EX);
$reply = is_file($dir . '/reply.json') ? json_decode((string) file_get_contents($dir . '/reply.json'), true) : null;
if (isset($reply['delay_ms'])) {
    usleep($reply['delay_ms'] * 1000);
}
http_response_code($reply['status'] ?? 202);
header('Content-Type: application/json');
$events = json_decode($body, true)['events'] ?? [];
echo json_encode($reply['body'] ?? ['accepted' => count($events), 'rejected' => 0, 'errors' => []]);
