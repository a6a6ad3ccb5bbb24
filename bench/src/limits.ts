/**
 * The physical limits the consumer benchmarks are measured against, each taken in the same run on
 * the same servers: what Redis and MySQL do for plain clients with nothing of Tally in the way.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { TempDatabase } from '@tally/db';

export function redisIncrLimit(): number {
  const out = execFileSync('redis-benchmark', ['-h', '127.0.0.1', '-p', '6379', '-n', '1000000', '-P', '16', '-t', 'incr', '-q', '--csv'], {
    encoding: 'utf8',
  });
  return Number(/"INCR","([\d.]+)"/.exec(out)?.[1]);
}

export async function plainInsertLimit(temp: TempDatabase, rows: number): Promise<number> {
  const t0 = Date.now();
  for (let s = 0; s < rows; s += 1_000) {
    // The same columns as the event-logger's rows, repeat_view included.
    const values = Array.from({ length: 1_000 }, (_, i) => [
      randomUUID(),
      1 + ((s + i) % 1000),
      null,
      '203.0.113.9',
      'Mozilla/5.0',
      0,
      new Date(),
      new Date(),
      0,
    ]);
    await temp.db.raw(
      `INSERT IGNORE INTO view_events (event_id, jav_id, user_id, ip, user_agent, is_bot, occurred_at, received_at, repeat_view) VALUES ${values.map(() => '(?,?,?,?,?,?,?,?,?)').join(',')}`,
      values.flat(),
    );
  }
  const rate = rows / ((Date.now() - t0) / 1000);
  await temp.db('view_events').truncate();
  return rate;
}

export async function plainUpsertLimit(temp: TempDatabase, rows: number): Promise<number> {
  const t0 = Date.now();
  for (let s = 0; s < rows; s += 1_000) {
    const values = Array.from({ length: 1_000 }, (_, i) => [
      1 + ((s + i) % 500),
      1 + (((s + i) * 7) % 1000),
      1,
      new Date(),
      new Date(),
      '203.0.113.9',
      'Mozilla/5.0',
    ]);
    await temp.db.raw(
      `INSERT INTO user_jav_history (user_id, jav_id, view_count, first_viewed_at, last_viewed_at, ip, user_agent) VALUES ${values.map(() => '(?,?,?,?,?,?,?)').join(',')} ON DUPLICATE KEY UPDATE view_count = view_count + VALUES(view_count), last_viewed_at = GREATEST(last_viewed_at, VALUES(last_viewed_at))`,
      values.flat(),
    );
  }
  const rate = rows / ((Date.now() - t0) / 1000);
  await temp.db('user_jav_history').truncate();
  return rate;
}
