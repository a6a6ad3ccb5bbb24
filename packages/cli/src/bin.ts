#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import { DURATION_FORMAT, parseDuration, tryParseDuration } from '@tally/config';
import { runDbCli, USAGE as DB_USAGE } from '@tally/db';
import { runCommand } from './context';
import { checkSchemas, registerSchemas } from './commands/schemas';
import { createTopics, describeTopics } from './commands/topics';
import { showLag } from './commands/lag';
import { parseShare, simulate } from './commands/simulate';
import { DEFAULT_BOT_SHARE } from './commands/visitors';
import { dlqList, dlqRequeue, dlqShow } from './commands/dlq';
import { parsePosition, replay, SINKS, topicsFor } from './commands/replay';
import { adoptApply, adoptBackfill, adoptCheck, adoptRollback } from './commands/adopt';
import { forgetCommand } from './commands/forget';
import { topicNames } from '@tally/events';
import { parseSubject } from '@tally/privacy';

// `tally topics describe | head` closes the pipe early: that is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

const positiveInt = (name: string) => (v: string) => {
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new InvalidArgumentError(`${name} must be a positive whole number`);
  return Number(v);
};

/** A parser whose error message (naming the flag) becomes commander's invalid-argument error (exit 2). */
const parsedBy =
  <T>(parse: (v: string) => T) =>
  (v: string): T => {
    try {
      return parse(v);
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message);
    }
  };

/** A duration by the one rule of every setting (@tally/config); the error names the flag. */
const durationFlag = (flag: string) =>
  parsedBy((v: string) => {
    const ms = tryParseDuration(v);
    if (ms === undefined) throw new Error(`${flag}: "${v}" is not a duration (examples: ${DURATION_FORMAT})`);
    return ms;
  });

const program = new Command('tally')
  .description(
    "Operate a Tally deployment. Addresses come from the environment (KAFKA_BROKERS, SCHEMA_REGISTRY_URL, MYSQL_URL, …); CATALOG_MAPPING names the web app's tables (unset: the demo schema).",
  )
  .addHelpText('after', '\nExit codes: 0 success, 1 the command failed or found a problem, 2 invalid configuration or arguments.')
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));

program
  .command('setup')
  .description('create all topics and register all schemas (idempotent; run at start-up and deploy)')
  .action(() => runCommand(async (c, l) => (await createTopics(c, l)) || registerSchemas(c)));

const topics = program.command('topics').description('Kafka topics of the event catalog');
topics
  .command('create')
  .description('create missing topics (idempotent)')
  .option('--partitions <n>', 'partitions for new topics (default: schemas/topics.json)', positiveInt('--partitions'))
  .option('--retention-ms <ms>', 'retention of new event topics', positiveInt('--retention-ms'))
  .action((o: { partitions?: number; retentionMs?: number }) => runCommand((c, l) => createTopics(c, l, o)));
topics
  .command('describe')
  .description('partitions and message counts of each topic')
  .action(() => runCommand(describeTopics));

const schemas = program.command('schemas').description('Avro schemas in schemas/ and the registry');
schemas
  .command('register')
  .description('register every schema under <topic>-value (idempotent)')
  .action(() => runCommand(registerSchemas));
schemas
  .command('check')
  .description('check each schema is BACKWARD compatible: with --git against its previous committed version, else against the registry')
  .option('--git', 'compare with the previous committed version of each file (CI)', false)
  .action((o: { git: boolean }) => runCommand((c) => checkSchemas(c, o)));

program
  .command('lag')
  .description('per consumer group and partition: committed offset, end offset, lag, member (from the broker)')
  .option('--group <id...>', 'only these groups (default: every consumer group)')
  .option('--json', 'machine-readable output', false)
  .addHelpText('after', '\nExit codes: 0 shown, 1 a named group does not exist or the broker is unreachable, 2 bad arguments.')
  .action((o: { group?: string[]; json: boolean }) => runCommand((c, l) => showLag(c, l, o)));

/** `--since 2h` (that long ago) or an ISO-8601 time. */
const sinceTime = (v: string): Date => {
  if (/^\d+(\.\d+)?(ms|s|m|h)$/.test(v)) return new Date(Date.now() - parseDuration(v));
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new InvalidArgumentError(`--since: "${v}" is neither a duration ago (2h, 30m) nor an ISO-8601 time`);
  return new Date(t);
};

const position = (flag: string) => parsedBy((v) => parsePosition(v, flag));
const collect = (v: string, prev: string[] = []) => [...prev, v];

program
  .command('replay')
  .description("re-read a range of topics with a private consumer (live groups untouched) and apply a sink's own idempotent write")
  .option('--event <type>', 'event type to replay (repeatable), e.g. movie.viewed', collect, [])
  .option('--topic <topic>', 'topic to replay (repeatable)', collect, [])
  .requiredOption('--from <pos>', 'beginning | an offset (every partition) | ISO-8601 time | a duration ago (2h)', position('--from'))
  .option('--to <pos>', 'exclusive end: end (default, the end when the replay starts) | offset | time', position('--to'), { kind: 'end' })
  .requiredOption('--sink <sink>', `where to apply: ${SINKS.join(' | ')}`)
  .option('--progress-group <id>', 'history sink: the group whose progress guards the replay', 'tally-history')
  .option('--no-progress', 'no progress bar')
  .addHelpText(
    'after',
    `
Replaying into the live stores changes nothing (every sink is idempotent). To rebuild raw logs for a
range, empty those rows first and replay into event-logger. Exit codes: 0 done (invalid messages are
counted in the summary, not applied), 1 the replay failed, 2 bad arguments.`,
  )
  .action(
    (o: {
      event: string[];
      topic: string[];
      from: ReturnType<typeof parsePosition>;
      to: ReturnType<typeof parsePosition>;
      sink: string;
      progressGroup: string;
      progress: boolean;
    }) =>
      runCommand(async (c, l) => {
        const topics = topicsFor(topicNames(c.TOPIC_PREFIX), o.event, o.topic);
        const { code, summary } = await replay(c, l, {
          topics,
          from: o.from,
          to: o.to,
          sink: o.sink,
          progressGroup: o.progressGroup,
          progress: o.progress,
        });
        const invalid = Object.entries(summary.invalid)
          .map(([r, n]) => `${r}: ${n}`)
          .join(', ');
        process.stderr.write(
          `replay: ${summary.messages} messages in ${summary.seconds.toFixed(1)} s, ${summary.applied} applied to ${o.sink} (${summary.alreadyApplied} already there), ${invalid || 'none'} invalid\n`,
        );
        return code;
      }),
  );

const dlq = program.command('dlq').description('dead letters: poison messages the consumers refused, with their reasons');
dlq
  .command('list')
  .description('every dead letter with its reason, service and source (read from the dead-letter topic)')
  .option('--reason <reason>', 'only this reason (undecodable, unknown_schema, invalid_payload, …)')
  .option('--since <time>', 'only those refused since: 2h, 30m or an ISO-8601 time', sinceTime)
  .option('--json', 'machine-readable output', false)
  .action((o: { reason?: string; since?: Date; json: boolean }) => runCommand((c, l) => dlqList(c, l, o)));
dlq
  .command('show')
  .description('one dead letter in full: headers, key, payload decoded through the registry when possible')
  .argument('<id>', '<partition>:<offset> as `dlq list` prints it')
  .action((id: string) => runCommand((c, l) => dlqShow(c, l, id)));
dlq
  .command('requeue')
  .description('after fixing the cause, send dead letters back to their source topic (each once; sinks deduplicate on event_id)')
  .option('--reason <reason>', 'only this reason')
  .option('--since <time>', 'only those refused since: 2h, 30m or an ISO-8601 time', sinceTime)
  .option('--id <id...>', 'only these ids (<partition>:<offset>)')
  .option('--dry-run', 'say what would be requeued, send nothing', false)
  .option('--again', 'also resend those requeued before', false)
  .addHelpText(
    'after',
    '\nExit codes: 0 done, 1 some dead letters have no source topic header (not requeued) or the command failed, 2 bad arguments.',
  )
  .action((o: { reason?: string; since?: Date; id?: string[]; dryRun: boolean; again: boolean }) =>
    runCommand((c, l) => dlqRequeue(c, l, { ...o, ...(o.id ? { ids: o.id } : {}) })),
  );

program
  .command('simulate')
  .description(
    'send realistic traffic through the ingest API: visitors on common browsers (desktop and mobile) and a few crawlers, long-tail movie popularity, guests and users, searches (some with no result), downloads, likes, ratings, watchlists, recommendation clicks, occasional featured changes',
  )
  .option('--rate <n>', 'events per second', positiveInt('--rate'), 50)
  .option('--duration <t>', `how long: ${DURATION_FORMAT}`, durationFlag('--duration'), 30_000)
  .option(
    '--bot-share <share>',
    'share of visitors that are crawlers (Googlebot, bingbot, …), from 0 to 1; crawlers only view pages',
    parsedBy((v) => parseShare(v, '--bot-share')),
    DEFAULT_BOT_SHARE,
  )
  .option('--endpoint <url>', 'ingest endpoint', 'http://127.0.0.1:8080/v1/events')
  .option(
    '--key <key>',
    "server write key of the ingest API (each event forwards its visitor's ip and user agent, which only a server key may send)",
    'dev-server-key',
  )
  .option('--seed <n>', 'random seed (same seed, same traffic)', positiveInt('--seed'), 1)
  .option('--no-progress', 'no progress bar')
  .addHelpText(
    'after',
    `
Each simulated visitor keeps one browser user agent (from the most common ones: Chrome, Safari, Edge,
Firefox, … on desktop and mobile) and one ip; crawlers send their own user agents, so the ingest API
flags their events is_bot and the counters and dashboards leave them out.
Reads the catalog ids from MYSQL_URL. Exit codes: 0 every event accepted, 1 some refused or undelivered, 2 bad arguments.`,
  )
  .action((o: { rate: number; duration: number; botShare: number; endpoint: string; key: string; seed: number; progress: boolean }) =>
    runCommand((c) =>
      simulate(c, {
        rate: o.rate,
        durationMs: o.duration,
        botShare: o.botShare,
        endpoint: o.endpoint,
        key: o.key,
        seed: o.seed,
        progress: o.progress,
      }),
    ),
  );

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

program
  .command('migrate')
  .description(
    "apply the MySQL migrations: Tally's tables, and the demo web-app tables when missing unless CATALOG_MAPPING is set (then app tables are never touched)",
  )
  .argument('[action]', 'latest | rollback | status', 'latest')
  .action(async (action: string) => {
    process.exitCode = await runDbCli(['migrate', action]);
  });
program
  .command('seed')
  .description(
    'fill the demo catalog with deterministic data: --movies N --actors N --tags N --users N [--seed S]; refused (exit 2) when CATALOG_MAPPING is set',
  )
  .addHelpText('after', `\n${DB_USAGE}`)
  .allowUnknownOption()
  .argument('[options...]')
  .action(async (options: string[]) => {
    process.exitCode = await runDbCli(['seed', ...options]);
  });

void program.parseAsync(process.argv);
