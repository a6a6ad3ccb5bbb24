<?php

declare(strict_types=1);

namespace Tally\Laravel\Tests\Unit;

use PHPUnit\Framework\TestCase;
use Tally\Laravel\UserToken;

final class UserTokenTest extends TestCase
{
    public function testTheKnownVectorByteForByte(): void
    {
        // Computed once with Node's crypto (createHmac + base64url), not with this code: the ingest API
        // verifies in TypeScript, so the two implementations must agree on every byte.
        self::assertSame('v1.42.2000000000.r4GY2LmeKC19CzrvoXKl4R-jnDiA9ravp10Ac-UruY4', UserToken::sign('test-secret', 42, 2000000000));
    }

    public function testEveryVectorOfTheSharedFixture(): void
    {
        $vectors = json_decode((string) file_get_contents(__DIR__ . '/../fixtures/user-token-vectors.json'), true);
        self::assertGreaterThanOrEqual(3, count($vectors));
        foreach ($vectors as $v) {
            self::assertSame($v['token'], UserToken::sign($v['secret'], $v['user_id'], $v['expires']), $v['secret']);
        }
    }

    public function testIssueUsesTheDefaultTtlOfTwelveHoursAndRefusesMoreThanSevenDays(): void
    {
        $tokens = new UserToken('test-secret', clock: static fn (): int => 1999956800);
        self::assertSame('v1.42.2000000000.r4GY2LmeKC19CzrvoXKl4R-jnDiA9ravp10Ac-UruY4', $tokens->issue(42));
        self::assertStringStartsWith('v1.42.2000561600.', $tokens->issue(42, 7 * 86400));
        $this->expectException(\InvalidArgumentException::class);
        $tokens->issue(42, 7 * 86400 + 1);
    }

    public function testRefusesANonPositiveUserIdAndAnEmptySecret(): void
    {
        try {
            UserToken::sign('s', 0, 2000000000);
            self::fail('user 0 signed');
        } catch (\InvalidArgumentException $e) {
            self::assertStringContainsString('positive', $e->getMessage());
        }
        $this->expectException(\InvalidArgumentException::class);
        new UserToken('');
    }
}
