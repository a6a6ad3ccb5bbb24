import { randomUUID } from 'node:crypto';
import { sampleEvents, type MovieViewed, type TallyEvent } from '@tally/events';
import { createLogger } from '@tally/runtime';
import { loadIngestConfig } from './config';
import { clientEvent, MemoryCountedViews, testApp } from '../test/test-support';
import { isRepeat, viewerOf, ViewWindow } from './view-window';

const WINDOW = 30 * 60_000;
const logger = createLogger({ service: 'view-window-test', level: 'silent' });

function view(fields: Partial<MovieViewed> = {}): TallyEvent {
  return {
    type: 'movie.viewed',
    payload: { ...sampleEvents()['movie.viewed'], event_id: randomUUID(), user_id: 7, jav_id: 100, ...fields },
  };
}
const flag = (e: TallyEvent) => (e.type === 'movie.viewed' ? e.payload.repeat_view : undefined);

function setup() {
  const store = new MemoryCountedViews();
  const window = new ViewWindow(store, { windowMs: WINDOW, topicPrefix: 'tally.' }, logger);
  /** Marks the events as one request would, and returns their repeat_view flags. */
  const mark = async (...events: TallyEvent[]) => {
    await window.mark(events);
    return events.map(flag);
  };
  return { store, window, mark };
}

describe('the view de-dup decision', () => {
  it('counts the first view of a viewer and movie and flags the next ones within the window', async () => {
    const { store, mark } = setup();
    expect(await mark(view())).toEqual([false]);
    store.now += WINDOW - 1;
    expect(await mark(view(), view())).toEqual([true, true]);
  });

  it('counts again once the window has passed', async () => {
    const { store, mark } = setup();
    expect(await mark(view())).toEqual([false]);
    store.now += WINDOW;
    expect(await mark(view())).toEqual([false]);
    expect(await mark(view())).toEqual([true]);
  });

  it('never turns a retry of the counted event_id into a repeat, in any letter case', async () => {
    const { mark } = setup();
    const first = view();
    expect(await mark(first)).toEqual([false]);
    const id = first.payload.event_id;
    expect(await mark(view({ event_id: id }))).toEqual([false]);
    expect(await mark(view({ event_id: id.toUpperCase() }))).toEqual([false]);
    expect(await mark(view())).toEqual([true]);
  });

  it('keeps other movies and other viewers apart', async () => {
    const { mark } = setup();
    expect(await mark(view({ user_id: 7, jav_id: 100 }), view({ user_id: 7, jav_id: 101 }), view({ user_id: 8, jav_id: 100 }))).toEqual([
      false,
      false,
      false,
    ]);
  });

  it('keys guests by ip and user agent, apart from a signed-in user on the same ip', async () => {
    const { mark } = setup();
    const guest = (ip: string, ua: string | null) => view({ user_id: null, ip, user_agent: ua });
    expect(await mark(guest('203.0.113.5', 'Firefox'))).toEqual([false]);
    expect(await mark(guest('203.0.113.5', 'Firefox'))).toEqual([true]);
    expect(await mark(guest('203.0.113.5', 'Chrome'), guest('203.0.113.6', 'Firefox'), guest('203.0.113.5', null))).toEqual([
      false,
      false,
      false,
    ]);
    expect(await mark(view({ user_id: 9, ip: '203.0.113.5', user_agent: 'Firefox' }))).toEqual([false]);
  });

  it('leaves crawlers alone: not flagged, and not holding the window for anyone', async () => {
    const { store, mark } = setup();
    const bot = { user_id: null, ip: '66.249.66.1', user_agent: 'Googlebot/2.1', is_bot: true };
    expect(await mark(view(bot), view(bot))).toEqual([false, false]);
    expect(store.held.size).toBe(0);
  });

  it('asks the store once per request, and not at all for a request without views', async () => {
    const { store, window } = setup();
    await window.mark([view(), view({ jav_id: 2 }), view({ jav_id: 3 })]);
    await window.mark([{ type: 'movie.downloaded', payload: sampleEvents()['movie.downloaded'] }]);
    expect(store.roundTrips).toBe(1);
  });

  it('fails open when the store does not answer: every view counts, and the window applies again after', async () => {
    const { store, window, mark } = setup();
    store.failing = true;
    const events = [view(), view()];
    expect(await window.mark(events)).toMatchObject({ failedOpen: true, repeats: 0 });
    expect(events.map(flag)).toEqual([false, false]);
    store.failing = false;
    expect(await mark(view(), view())).toEqual([false, true]);
  });

  it('releases the claims of a failed request, so its never-retried view does not swallow the next one', async () => {
    const { window, mark } = setup();
    const failed = view();
    const marking = await window.mark([failed]);
    await window.release(marking);
    expect(await mark(view())).toEqual([false]);
  });

  it("releases only claims that still hold the failed request's event_id", async () => {
    const { store, window, mark } = setup();
    const marking = await window.mark([view()]);
    store.now += WINDOW; // expired meanwhile, and another view took the window
    expect(await mark(view())).toEqual([false]);
    await window.release(marking);
    expect(await mark(view())).toEqual([true]);
  });
});

describe('viewerOf and isRepeat', () => {
  it('names users by id and guests by a hash that contains no ip', () => {
    expect(viewerOf({ user_id: 42, ip: '203.0.113.5', user_agent: 'Firefox' })).toBe('u:42');
    const guest = viewerOf({ user_id: null, ip: '203.0.113.5', user_agent: 'Firefox' });
    expect(guest).toMatch(/^g:[A-Za-z0-9_-]{22}$/);
    expect(guest).not.toContain('203');
  });

  it('is a repeat only when another event holds the window', () => {
    const id = randomUUID();
    expect(isRepeat(null, id)).toBe(false);
    expect(isRepeat(id, id)).toBe(false);
    expect(isRepeat(randomUUID(), id)).toBe(true);
  });
});

describe('POST /v1/events with VIEW_DEDUP_WINDOW', () => {
  const post = (app: Awaited<ReturnType<typeof testApp>>['app'], payload: Record<string, unknown>) =>
    app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { authorization: 'Bearer bk-1', 'user-agent': 'Mozilla/5.0 Firefox/128.0' },
      payload,
    });
  const viewsOf = (produced: TallyEvent[][]) => produced.flat().map(flag);

  it('off (the default): every view of the same viewer and movie counts', async () => {
    const { app, produced } = await testApp();
    for (let i = 0; i < 3; i++) expect((await post(app, { ...clientEvent('movie.viewed'), event_id: randomUUID() })).statusCode).toBe(202);
    expect(viewsOf(produced)).toEqual([false, false, false]);
  });

  it('on: the first view counts, the others are accepted and flagged; the metric says how many', async () => {
    const { app, produced, metrics } = await testApp({ VIEW_DEDUP_WINDOW: '30m' });
    const events = [0, 1, 2].map(() => ({ ...clientEvent('movie.viewed'), event_id: randomUUID() }));
    expect((await post(app, { events: events.slice(0, 2) })).statusCode).toBe(202);
    expect((await post(app, events[2]!)).statusCode).toBe(202);
    expect(viewsOf(produced)).toEqual([false, true, true]);
    expect(await metrics.registry.metrics()).toMatch(/^tally_views_repeated_total\{service="ingest_test"\} 2$/m);
  });

  it('a view whose request got 503 and is never retried does not make the next view a repeat', async () => {
    let kafkaDown = true;
    const { app, produced } = await testApp({ VIEW_DEDUP_WINDOW: '30m' }, { failProduce: () => kafkaDown });
    expect((await post(app, { ...clientEvent('movie.viewed'), event_id: randomUUID() })).statusCode).toBe(503);
    kafkaDown = false;
    expect((await post(app, { ...clientEvent('movie.viewed'), event_id: randomUUID() })).statusCode).toBe(202);
    expect(viewsOf(produced)).toEqual([false]);
  });

  it('counts the view when Redis is down, and says so in a metric', async () => {
    const countedViews = new MemoryCountedViews();
    countedViews.failing = true;
    const { app, produced, metrics } = await testApp({ VIEW_DEDUP_WINDOW: '30m' }, { countedViews });
    for (let i = 0; i < 2; i++) expect((await post(app, { ...clientEvent('movie.viewed'), event_id: randomUUID() })).statusCode).toBe(202);
    expect(viewsOf(produced)).toEqual([false, false]);
    expect(await metrics.registry.metrics()).toMatch(/^tally_view_dedup_failures_total\{service="ingest_test"\} 2$/m);
  });

  it('refuses repeat_view from a client, for any event type', async () => {
    const { app, produced } = await testApp({ VIEW_DEDUP_WINDOW: '30m' });
    for (const type of ['movie.viewed', 'movie.downloaded'] as const) {
      const res = await post(app, { ...clientEvent(type), repeat_view: false });
      expect(res.statusCode).toBe(400);
      expect(res.json().errors).toContainEqual({ index: 0, field: 'repeat_view', reason: 'is set by the server and must not be sent' });
    }
    expect(produced).toEqual([]);
  });

  it('does not offer repeat_view in the OpenAPI document', async () => {
    const { app } = await testApp();
    const viewed = (await app.inject({ method: 'GET', url: '/docs/json' })).json().components.schemas.MovieViewed;
    expect(Object.keys(viewed.properties)).toContain('jav_id');
    expect(Object.keys(viewed.properties)).not.toContain('repeat_view');
  });
});

describe('VIEW_DEDUP_WINDOW config', () => {
  it('is off unless set, and refuses a window that is not a duration of at least 1s, naming the variable', () => {
    const defaults = loadIngestConfig({});
    expect(defaults.VIEW_DEDUP_WINDOW).toBeUndefined();
    expect(defaults.VIEW_DEDUP_TIMEOUT).toBe(100);
    expect(loadIngestConfig({ VIEW_DEDUP_WINDOW: '30m' }).VIEW_DEDUP_WINDOW).toBe(1_800_000);
    for (const bad of ['0', '500ms', 'soon'])
      expect(() => loadIngestConfig({ VIEW_DEDUP_WINDOW: bad })).toThrow(/VIEW_DEDUP_WINDOW: must be/);
    expect(() => loadIngestConfig({ VIEW_DEDUP_TIMEOUT: 'fast' })).toThrow(/VIEW_DEDUP_TIMEOUT/);
  });
});
