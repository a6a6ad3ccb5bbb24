import { DEMO_CATALOG } from '@tally/catalog';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { computeDashboard } from '@tally/analytics';
import { createTempDatabase, migrateLatest, RAW_EVENT_TABLES, seedDemo, type TempDatabase } from '@tally/db';
import { eventDefinitions, type TopicNames } from '@tally/events';
import { env, uniqueName } from '../helpers/env';
import { deleteTopics } from '../helpers/kafka';
import { endOffsets, isolatedTopics } from '../helpers/pipeline';
import { startIngest, testPort } from '../helpers/services';
import { ServiceProcess } from '../helpers/process';

const ROOT = resolve(__dirname, '../..');
const CLI = resolve(ROOT, 'packages/cli/dist/bin.js');
const run = promisify(execFile);
const EVENTS = 400;

type LogRow = { table: string; type: string | null; user_id: number | null; user_agent: string | null; is_bot: number };

describe('tally simulate', () => {
  let names: TopicNames;
  let tmp: TempDatabase;
  let ingest: { proc: ServiceProcess; url: string };
  let logger: ServiceProcess;
  let stdout: string;
  /** Events the run added to each topic (summed over partitions). */
  const added = new Map<string, number>();
  let rows: LogRow[];

  const sum = (m: Map<string, number>, topic: string) => [...m].filter(([k]) => k.startsWith(`${topic}:`)).reduce((n, [, v]) => n + v, 0);

  beforeAll(async () => {
    names = isolatedTopics();
    tmp = await createTempDatabase(env.MYSQL_URL, 'tally_test_sim');
    await migrateLatest(tmp.db);
    await seedDemo(tmp.db, { movies: 300, actors: 40, tags: 15, users: 60, seed: 3 });
    ingest = await startIngest({ PORT: String(testPort(21_000)), TOPIC_PREFIX: names.prefix });
    // The real event-logger writes the raw logs the dashboard is computed from. A group of the suite's
    // own: the live quick-start logger's group would be handed these partitions too.
    const port = testPort(21_600);
    logger = new ServiceProcess('services/event-logger/dist/main.js', {
      LOG_LEVEL: 'warn',
      MYSQL_URL: tmp.url,
      TOPIC_PREFIX: names.prefix,
      GROUP_ID: uniqueName('sim_logger'),
      MANAGEMENT_PORT: String(port),
    });
    await logger.until(
      async () => ((await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.ok ? true : undefined),
      45_000,
      `event-logger ready`,
    );

    const topics = eventDefinitions().map((d) => names.topicFor(d.type));
    const before = await endOffsets(topics);
    ({ stdout } = await run(
      process.execPath,
      [CLI, 'simulate', '--rate', '200', '--duration', '2s', '--endpoint', `${ingest.url}/v1/events`, '--key', 'sk-test', '--no-progress'],
      {
        env: { ...process.env, MYSQL_URL: tmp.url },
      },
    ));
    const after = await endOffsets(topics);
    for (const d of eventDefinitions()) added.set(d.type, sum(after, names.topicFor(d.type)) - sum(before, names.topicFor(d.type)));

    // Every event lands in exactly one raw log (featured changes too).
    const read = async () => {
      const all: LogRow[] = [];
      for (const table of RAW_EVENT_TABLES) {
        const typeColumn = table === 'interaction_events' ? 'type' : table === 'featured_events' ? 'action' : null;
        const r = (await tmp
          .db(table)
          .select(tmp.db.raw(`${typeColumn ? `\`${typeColumn}\`` : 'NULL'} AS type`), 'user_id', 'user_agent', 'is_bot')) as Omit<
          LogRow,
          'table'
        >[];
        all.push(...r.map((x) => ({ ...x, table })));
      }
      return all;
    };
    rows = await logger.until(
      async () => {
        const all = await read();
        return all.length >= EVENTS ? all : undefined;
      },
      60_000,
      `${EVENTS} raw log rows`,
    );
  }, 180_000);

  afterAll(async () => {
    ingest?.proc.signal('SIGTERM');
    await ingest?.proc.waitExit();
    await logger?.kill();
    await tmp?.drop();
    await deleteTopics([...eventDefinitions().map((d) => names.topicFor(d.type)), names.deadLetter]).catch(() => undefined);
  });

  it('sends the asked number of realistic events through the ingest API, all accepted and in Kafka', () => {
    expect(stdout).toMatch(/simulate: 400 accepted, 0 rejected, 0 dropped \(queue full\), 0 undelivered/);
    expect([...added.values()].reduce((a, b) => a + b, 0)).toBe(EVENTS);
    // Every kind the dashboard and the counters show: views, downloads, likes/unlikes, ratings,
    // watchlist changes, searches, recommendation clicks, actor and tag pages.
    const kinds = [
      'movie.viewed',
      'movie.downloaded',
      'movie.liked',
      'movie.unliked',
      'movie.rated',
      'movie.watchlisted',
      'search.performed',
      'recommendation.clicked',
      'actor.viewed',
      'tag.viewed',
    ];
    expect(kinds.filter((type) => !(added.get(type)! > 0))).toEqual([]);
    expect(rows).toHaveLength(EVENTS);
  });

  it('the ingest API takes them for people (browser user agents, is_bot false) but for a few crawlers, which only view pages', () => {
    // The forwarded user agent reached the event, not the simulator's own (`node`, a bot to isbot).
    expect(rows.filter((r) => r.user_agent === null || r.user_agent === 'node')).toEqual([]);
    expect(new Set(rows.map((r) => r.user_agent)).size).toBeGreaterThan(20);
    const bots = rows.filter((r) => r.is_bot === 1);
    process.stdout.write(
      `simulate: ${bots.length} of ${rows.length} events from crawlers (is_bot), ${new Set(rows.map((r) => r.user_agent)).size} distinct user agents\n`,
    );
    expect(bots.length).toBeGreaterThan(0); // the default 3 % crawler share shows
    expect(bots.length / rows.length).toBeLessThan(0.06);
    expect(
      bots.filter(
        (b) =>
          !['view_events', 'actor_view_events', 'tag_view_events'].includes(b.table) ||
          b.user_id !== null ||
          !/bot|spider/i.test(b.user_agent!),
      ),
    ).toEqual([]);
    // Guests and signed-in people both.
    const people = rows.filter((r) => r.is_bot === 0);
    expect(people.some((r) => r.user_id === null) && people.some((r) => r.user_id !== null)).toBe(true);
    expect(new Set(people.filter((r) => r.table === 'interaction_events').map((r) => r.type))).toEqual(
      new Set(['like', 'unlike', 'rate', 'watchlist', 'unwatchlist']),
    );
  });

  it("their counts reach the dashboard figures (the snapshot-builder's computation over the raw logs)", async () => {
    const d = await computeDashboard(tmp.db, DEMO_CATALOG, new Date(Date.now() + 1_000));
    const people = (table: string) => rows.filter((r) => r.table === table && r.is_bot === 0).length;
    const views = d.daily_trends.reduce((n, t) => n + t.views, 0);
    expect(views).toBe(people('view_events'));
    expect(views).toBeGreaterThan(0.9 * added.get('movie.viewed')!);
    expect(d.daily_trends.reduce((n, t) => n + t.downloads, 0)).toBe(added.get('movie.downloaded'));
    expect(d.top_movies['24h'].by_views.length).toBeGreaterThan(0);
    expect(d.top_movies['24h'].by_downloads.length).toBeGreaterThan(0);
    expect(d.top_actors.reduce((n, a) => n + a.views, 0)).toBe(people('actor_view_events'));
    expect(d.top_tags.reduce((n, t) => n + t.views, 0)).toBe(people('tag_view_events'));
    expect(d.recommendation_clicks.reduce((n, r) => n + r.clicks, 0)).toBe(added.get('recommendation.clicked'));
    expect(d.recommendation_clicks.map((r) => r.reason).sort()).toEqual(['co_viewed', 'popular']);
    const searches = d.searches['24h'];
    expect(searches.popular.reduce((n, s) => n + s.searches, 0)).toBe(added.get('search.performed'));
    expect(searches.zero_results.length).toBeGreaterThan(0);
  });

  it('documents --bot-share, and refuses a bad value with exit 2 naming the flag', async () => {
    const { stdout: help } = await run(process.execPath, [CLI, 'simulate', '--help']);
    expect(help).toMatch(/--bot-share <share>\s+share of visitors that are crawlers/);
    for (const bad of ['1.5', '-0.1', '3%', 'few']) {
      const err = (await run(process.execPath, [CLI, 'simulate', '--bot-share', bad]).catch((e: unknown) => e)) as {
        code: number;
        stderr: string;
      };
      expect([bad, err.code]).toEqual([bad, 2]);
      expect(err.stderr).toContain(`--bot-share: "${bad}" is not a share from 0 to 1`);
    }
  });

  it('names a bad --duration and exits 2', async () => {
    const err = await run(process.execPath, [CLI, 'simulate', '--duration', 'soon']).catch((e: { code: number; stderr: string }) => e);
    expect((err as { code: number }).code).toBe(2);
    expect((err as { stderr: string }).stderr).toMatch(/--duration: "soon" is not a duration/);
  });
});
