#!/usr/bin/env node
import { Command } from 'commander';
import { DURATION_FORMAT } from '@tally/config';
import { runDbCli, USAGE as DB_USAGE } from '@tally/db';
import { runCommand } from './context';
import { addAdoptCommands } from './program-adopt';
import { addDataCommands } from './program-data';
import { durationFlag, parsedBy, positiveInt } from './flags';
import { checkSchemas, registerSchemas } from './commands/schemas';
import { createTopics, describeTopics } from './commands/topics';
import { showLag } from './commands/lag';
import { parseShare, simulate } from './commands/simulate';
import { DEFAULT_BOT_SHARE } from './commands/visitors';

// `tally topics describe | head` closes the pipe early: that is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
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

addDataCommands(program);

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

addAdoptCommands(program);

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
