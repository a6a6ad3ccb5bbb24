import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

/** One request as the fake ingest API saw it, body already gunzipped and parsed. */
export interface SeenRequest {
  url: string;
  headers: IncomingHttpHeaders;
  raw: Buffer;
  body: { events: Array<Record<string, unknown>> };
  at: number;
}

/** What the fake answers: a response, a dropped connection, or silence until the test ends. */
export type Reply = { status: number; body?: unknown; headers?: Record<string, string> } | 'reset' | 'hang';

export interface FakeIngest {
  url: string;
  requests: SeenRequest[];
  /** event_id of every event in every request, in order, duplicates kept. */
  eventIds(): string[];
  close(): Promise<void>;
}

/** Accepts every event, like the real API on a good day. */
export const acceptAll = (request: SeenRequest): Reply => ({
  status: 202,
  body: {
    accepted: request.body.events.length,
    rejected: 0,
    events: request.body.events.map((event, index) => ({ index, event_id: event.event_id })),
    errors: [],
  },
});

/** Starts a fake ingest API on 127.0.0.1 at a free port; `reply` gets each request and its number (0 first). */
export async function startFakeIngest(reply: (request: SeenRequest, n: number) => Reply = acceptAll): Promise<FakeIngest> {
  const requests: SeenRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const text = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
      const seen: SeenRequest = { url: req.url ?? '', headers: req.headers, raw, body: JSON.parse(text), at: Date.now() };
      requests.push(seen);
      const answer = reply(seen, requests.length - 1);
      if (answer === 'hang') return;
      if (answer === 'reset') {
        req.socket.destroy();
        return;
      }
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/events`,
    requests,
    eventIds: () => requests.flatMap((r) => r.body.events.map((e) => String(e.event_id))),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Resolves once `condition` holds, polling every 5 ms; fails the test after `timeoutMs`. */
export async function waitFor(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
