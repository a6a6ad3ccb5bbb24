import { Command, InvalidArgumentError } from 'commander';
import { parseDuration } from '@tally/config';
import { runCommand } from './context';
import { parsedBy } from './flags';
import { dlqList, dlqRequeue, dlqShow } from './commands/dlq';
import { parsePosition, replay, SINKS, topicsFor } from './commands/replay';
import { topicNames } from '@tally/events';

/** The data team's commands: replay a range into a sink; list, show and requeue dead letters. */
export function addDataCommands(program: Command): void {
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
}
