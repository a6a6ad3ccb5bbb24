<?php

declare(strict_types=1);

namespace Tally\Laravel\Http;

/** One answer of the ingest API, or status 0 with the reason when there was none (refused, timeout). */
final class Response
{
    /** @param array<string, string> $headers lower-cased names */
    public function __construct(
        public readonly int $status,
        public readonly array $headers = [],
        public readonly string $body = '',
        public readonly ?string $error = null,
    ) {
    }

    public static function none(string $error): self
    {
        return new self(0, [], '', $error);
    }

    /** @return array<string, mixed>|null */
    public function json(): ?array
    {
        $decoded = json_decode($this->body, true);
        return is_array($decoded) ? $decoded : null;
    }
}
