<?php

declare(strict_types=1);

namespace Tally\Laravel\Tests\Support;

use Psr\Log\AbstractLogger;

final class MemoryLogger extends AbstractLogger
{
    /** @var list<array{level: string, message: string, context: array<mixed>}> */
    public array $records = [];

    public function log($level, $message, array $context = []): void
    {
        $this->records[] = ['level' => (string) $level, 'message' => (string) $message, 'context' => $context];
    }

    /** @return list<string> */
    public function messages(string $level): array
    {
        return array_values(array_map(static fn (array $r): string => $r['message'], array_filter($this->records, static fn (array $r): bool => $r['level'] === $level)));
    }
}
