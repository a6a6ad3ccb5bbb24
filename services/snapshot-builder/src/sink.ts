import type { Knex } from 'knex';
import type { DeadLetterRow } from './handler';

/** Read positions of the dead-letter copier, per partition of `topic`. */
export async function loadPositions(db: Knex, topic: string): Promise<Map<number, number>> {
  const rows = (await db('dead_letter_offsets').where({ topic }).select('partition', 'next_offset')) as {
    partition: number;
    next_offset: number;
  }[];
  return new Map(rows.map((r) => [Number(r.partition), Number(r.next_offset)]));
}

/**
 * Copies one batch and moves the position in the same transaction. INSERT IGNORE on the
 * (topic, partition, offset) key makes a replay (a run killed after the commit but before it knew,
 * or a position reset) add nothing; GREATEST keeps the position from ever moving back.
 */
export async function saveDeadLetters(
  db: Knex,
  topic: string,
  partition: number,
  rows: readonly DeadLetterRow[],
  nextOffset: number,
): Promise<number> {
  return db.transaction(async (trx) => {
    let inserted = 0;
    if (rows.length > 0) {
      const cols = Object.keys(rows[0]!) as (keyof DeadLetterRow)[];
      const tuple = `(${cols.map(() => '?').join(', ')})`;
      const [res] = (await trx.raw(
        `INSERT IGNORE INTO dead_letters (${cols.map((c) => `\`${c}\``).join(', ')}) VALUES ${rows.map(() => tuple).join(', ')}`,
        rows.flatMap((r) => cols.map((c) => r[c])),
      )) as [{ affectedRows: number }];
      inserted = res.affectedRows;
    }
    await trx.raw(
      `INSERT INTO dead_letter_offsets (topic, \`partition\`, next_offset) VALUES (?, ?, ?)
       ON DUPLICATE KEY UPDATE next_offset = GREATEST(next_offset, VALUES(next_offset))`,
      [topic, partition, nextOffset],
    );
    return inserted;
  });
}
