import { Command } from 'commander';
import { DURATION_FORMAT } from '@tally/config';
import { runCommand } from './context';
import { durationFlag } from './flags';
import { adoptApply, adoptBackfill, adoptCheck, adoptRollback } from './commands/adopt';
import { forgetCommand } from './commands/forget';
import { parseSubject } from '@tally/privacy';

/** Commands that touch the web app's data: adopting its tables, and forgetting a person. */
export function addAdoptCommands(program: Command): void {
  const adopt = program
    .command('adopt')
    .description("run Tally against the web app's own tables (CATALOG_MAPPING, docs/adopting.md): check, apply, backfill, rollback");
  adopt
    .command('check')
    .description(
      'read-only: compare the mapping with the live schema; print what matches, each problem with its fix, and the exact DDL apply would run',
    )
    .option('--json', 'machine-readable output (the whole report)', false)
    .addHelpText(
      'after',
      `
  Problems are what only the app team (or a mapping change) can fix: a missing table or column, a wrong
  type, a nullable or unsigned count, a missing or colliding unique key, duplicate history rows, a NOT
  NULL column without a default. Warnings (e.g. an ON UPDATE column the flusher would move) do not
  count. Exit codes: 0 nothing missing, 1 a problem or a statement for apply is left, 2 invalid
  configuration (CATALOG_MAPPING unreadable or invalid, mapping.database not on the server).`,
    )
    .action((o: { json: boolean }) => runCommand((c) => adoptCheck(c, o)));
  adopt
    .command('apply')
    .description(
      "run only the check's additive DDL (ADD COLUMN, ADD INDEX, LOCK=NONE) on the app's tables, printing each statement before it runs, and record each object for rollback",
    )
    .option('--dry-run', 'run nothing: print the check and its DDL (same output and exit codes as check)', false)
    .addHelpText(
      'after',
      `
  Refuses while the check reports any problem, related to the DDL or not: nothing runs, exit 1. Tally's
  services would not start with a problem left anyway, and fixing one can change the DDL. Needs
  \`tally migrate\` first (the record lives in MYSQL_URL's database, table tally_adopted_objects).
  Exit codes: 0 applied (or nothing to apply) and the check is clean, 1 refused or a statement failed,
  2 invalid configuration.`,
    )
    .action((o: { dryRun: boolean }) => runCommand((c) => adoptApply(c, o)));
  adopt
    .command('backfill')
    .description(
      "fill Tally's per-user like/rating/watchlist state (movie_user_state) from the app's interactions and watchlists, set the likes column to the number of users who like each movie, and the display keys <prefix>likes:{id} from it",
    )
    .option('--force', 'run even though the counter has already counted events (its newer Redis state would be raced)', false)
    .addHelpText(
      'after',
      `
  Run it once, after \`tally adopt apply\` and before the counter's first start (docs/adopting.md). A
  re-run changes nothing (the newest state wins). Exit codes: 0 done, 1 refused (the counter has
  counted: counter_offsets or tally:counter:applied is not empty) or failed, 2 invalid configuration.`,
    )
    .action((o: { force: boolean }) => runCommand((c) => adoptBackfill(c, o)));
  adopt
    .command('rollback')
    .description('drop exactly the columns and indexes apply added (newest first), after listing them; nothing else')
    .option('--yes', 'really drop them: a dropped count column loses the counts Tally kept in it', false)
    .addHelpText(
      'after',
      `
  Without --yes it only lists what it would drop. Stop Tally's consumers, flusher and es-sync and switch
  the app back to its own counter writes first (docs/adopting.md). Exit codes: 0 dropped (or nothing
  recorded), 1 failed, 2 --yes missing (nothing dropped) or invalid configuration.`,
    )
    .action((o: { yes: boolean }) => runCommand((c) => adoptRollback(c, o)));

  program
    .command('forget')
    .description(
      "delete a person's data when they ask: their rows and keys in every store, and a tombstone so replays and late events do not bring it back",
    )
    .option('--user <id>', 'a signed-in user (users.id)')
    .option('--ip <address>', 'a guest, by the ip address their events carry')
    .option(
      '--settle <duration>',
      `wait between the two sweeps (longer than a sink chunk takes): ${DURATION_FORMAT}`,
      durationFlag('--settle'),
      5_000,
    )
    .option('--json', 'machine-readable output', false)
    .addHelpText(
      'after',
      `
  What it changes (docs/operations.md, "Forgetting a person"):
    raw logs (view_events, …)      the person's rows anonymized: user_id NULL, ip 0.0.0.0, user_agent NULL
                                   (the events stay for the aggregates, nobody's identity with them)
    history table (user_jav_history as mapped), movie_user_state, their recommendation snapshot
    (MongoDB), their per-user Redis keys and fields (counter state, view de-dup), their dead letters:
                                   deleted
    tally_forgotten                a tombstone (SHA-256 of user:<id> or ip:<addr>): every sink skips
                                   their events from now on, replays and late events included
    tally_forget_audit             who asked, when, and the counts removed
  Aggregate counts (views, likes, …) stay. Kafka's own copies age out with the topics' retention
  (7 days; dead letters 30). Exit codes: 0 done, 1 failed, 2 bad arguments or configuration.`,
    )
    .action((o: { user?: string; ip?: string; settle: number; json: boolean }) => {
      let subject;
      try {
        subject = parseSubject({ user: o.user, ip: o.ip });
      } catch (err) {
        process.stderr.write(`tally forget: ${(err as Error).message}: --user <id> or --ip <address>\n`);
        process.exit(2);
      }
      return runCommand((c) => forgetCommand(c, subject, { json: o.json, settleMs: o.settle }));
    });
}
