import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { DependencyError } from '@tally/runtime';
import { PoisonMessageError, RegistryCodec, type CatalogSchema } from './codec';

/**
 * The part of a Confluent-compatible registry the codec uses, in memory like the local Apicurio:
 * ids per distinct schema content, handed out in order of first registration; `reset()` is a restart.
 */
class FakeRegistry {
  private ids = new Map<string, number>();
  private subjects = new Map<string, number[]>();
  /** Compatibility PUTs still to refuse with 409, as Apicurio does when another client set it first. */
  configConflicts = 0;
  /** Called when an id lookup is about to answer 404 (to let "another service" act in between). */
  onUnknownId: ((id: number) => void) | undefined;
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise((r) => this.server?.close(r));
  }

  reset(): void {
    this.ids = new Map();
    this.subjects = new Map();
  }

  register(subject: string, schema: string): number {
    let id = this.ids.get(schema);
    if (id === undefined) this.ids.set(schema, (id = this.ids.size + 1));
    const versions = this.subjects.get(subject) ?? [];
    if (!versions.includes(id)) versions.push(id);
    this.subjects.set(subject, versions);
    return id;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = '';
    for await (const chunk of req) body += String(chunk);
    const send = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/vnd.schemaregistry.v1+json' });
      res.end(JSON.stringify(value));
    };
    const path = decodeURIComponent(req.url ?? '');
    let m: RegExpExecArray | null;
    if ((m = /^\/schemas\/ids\/(\d+)$/.exec(path)) && req.method === 'GET') {
      const id = Number(m[1]);
      let schema = [...this.ids].find(([, i]) => i === id)?.[0];
      if (schema === undefined) {
        this.onUnknownId?.(id);
        schema = [...this.ids].find(([, i]) => i === id)?.[0];
        if (schema === undefined) return send(404, { error_code: 40403, message: `Schema ${id} not found` });
      }
      return send(200, { schema });
    }
    if ((m = /^\/config\/(.+)$/.exec(path))) {
      if (req.method === 'PUT' && this.configConflicts > 0) {
        this.configConflicts--;
        return send(409, { error_code: 409, message: "A rule named 'COMPATIBILITY' already exists." });
      }
      if (req.method === 'PUT') return send(200, { compatibility: 'BACKWARD' });
      return this.subjects.has(m[1]!) ? send(200, { compatibilityLevel: 'BACKWARD' }) : send(404, { error_code: 40401 });
    }
    if ((m = /^\/subjects\/(.+)\/versions$/.exec(path)) && req.method === 'POST') {
      return send(200, { id: this.register(m[1]!, (JSON.parse(body) as { schema: string }).schema) });
    }
    if ((m = /^\/subjects\/(.+)$/.exec(path)) && req.method === 'POST') {
      const id = this.ids.get((JSON.parse(body) as { schema: string }).schema);
      if (id === undefined || !this.subjects.get(m[1]!)?.includes(id)) return send(404, { error_code: 40403 });
      return send(200, { subject: m[1], id, version: 1 });
    }
    send(404, { error_code: 404 });
  }
}

const record = (name: string, field: string, type: string) => ({
  type: 'record',
  name,
  namespace: 'test',
  fields: [{ name: field, type }],
});
const CATALOG: CatalogSchema[] = [
  { subject: 't.first-value', schema: record('First', 'a', 'string') },
  { subject: 't.second-value', schema: record('Second', 'b', 'long') },
  { subject: 't.third-value', schema: record('Third', 'c', 'int') },
];

describe('RegistryCodec and a registry that forgets', () => {
  const registry = new FakeRegistry();
  beforeAll(() => registry.start());
  afterAll(() => registry.stop());
  beforeEach(() => {
    registry.reset();
    registry.onUnknownId = undefined;
    registry.configConflicts = 0;
  });

  /** A message of the second catalog schema, written while the registry had the catalog. */
  async function writtenBeforeTheRestart(): Promise<{ id: number; message: Buffer }> {
    const producer = new RegistryCodec(registry.url, { catalog: CATALOG });
    const { ids } = await producer.ensureCatalog();
    const id = ids.get('t.second-value')!;
    return { id, message: await producer.encode(id, { b: 42 }) };
  }

  it('decodes synchronously (decodeKnown) only once the id was fetched, with the same result as decode', async () => {
    const { id, message } = await writtenBeforeTheRestart();
    const consumer = new RegistryCodec(registry.url, { catalog: CATALOG });
    expect(consumer.decodeKnown(message)).toBeUndefined();
    const awaited = await consumer.decode(message);
    const known = consumer.decodeKnown(message);
    expect(known).toEqual(awaited);
    expect(known).toMatchObject({ schemaId: id, value: { b: 42 } });
    // The writer type is the one the value was read with: it decodes the body again.
    expect((known!.writer as { fromBuffer(b: Buffer): unknown }).fromBuffer(message.subarray(5))).toEqual({ b: 42 });
    // Bad bytes are poison on the synchronous path too, under a known id or not.
    expect(() => consumer.decodeKnown(Buffer.from([1, 2, 3, 4, 5, 6]))).toThrow(PoisonMessageError);
    const truncated = Buffer.concat([message.subarray(0, 5), Buffer.from([0xff])]);
    expect(() => consumer.decodeKnown(truncated)).toThrow(/Avro body does not match schema/);
  });

  it('registers the catalog in its order, so an empty registry gives the same ids again', async () => {
    const first = await new RegistryCodec(registry.url, { catalog: CATALOG }).ensureCatalog();
    registry.reset();
    const again = await new RegistryCodec(registry.url, { catalog: CATALOG }).ensureCatalog();
    expect([...again.ids]).toEqual([...first.ids]);
    expect([...first.ids.values()]).toEqual([1, 2, 3]);
  });

  it('a cold consumer reading a message written before the registry restarted empty: registers the catalog again and decodes it', async () => {
    const { id, message } = await writtenBeforeTheRestart();
    registry.reset();
    const consumer = new RegistryCodec(registry.url, { catalog: CATALOG });
    await expect(consumer.decode(message)).resolves.toMatchObject({ schemaId: id, value: { b: 42 } });
    expect(await consumer.lookupCatalog()).toEqual(
      new Map([
        ['t.first-value', 1],
        ['t.second-value', 2],
        ['t.third-value', 3],
      ]),
    );
  });

  it('an id that appears while the codec checks the catalog (another service finished the repair) is not poison', async () => {
    const { id, message } = await writtenBeforeTheRestart();
    registry.reset();
    // The 404 is answered, and before the codec looks at the subjects the catalog is complete again.
    registry.onUnknownId = () => {
      registry.onUnknownId = undefined;
      setImmediate(() => CATALOG.forEach((c) => registry.register(c.subject, JSON.stringify(c.schema))));
    };
    const consumer = new RegistryCodec(registry.url, { catalog: CATALOG });
    const decoded = consumer.decode(message);
    await expect(decoded).resolves.toMatchObject({ schemaId: id, value: { b: 42 } });
  });

  it('an unknown id while the registry has the catalog is poison (unknown_schema)', async () => {
    const { message } = await writtenBeforeTheRestart();
    const bogus = Buffer.from(message);
    bogus.writeInt32BE(2_000_000_000, 1);
    const err = await new RegistryCodec(registry.url, { catalog: CATALOG }).decode(bogus).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PoisonMessageError);
    expect(err).toMatchObject({ reason: 'unknown_schema' });
  });

  it('without a catalog (tally dlq, replay), an unknown id stays poison even on an empty registry', async () => {
    const { message } = await writtenBeforeTheRestart();
    registry.reset();
    await expect(new RegistryCodec(registry.url).decode(message)).rejects.toMatchObject({ reason: 'unknown_schema' });
  });

  it('a registry that is down is a retriable dependency error, not poison', async () => {
    const { message } = await writtenBeforeTheRestart();
    const down = new RegistryCodec('http://127.0.0.1:1', { catalog: CATALOG });
    const err = await down.decode(message).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DependencyError);
    expect(err).toMatchObject({ retriable: true });
  });

  it('registering with a registry that refuses connections or never answers is retriable, not a refused schema', async () => {
    const schema = { type: 'record', name: 'Probe', fields: [{ name: 'a', type: 'string' }] };
    const refused = await new RegistryCodec('http://127.0.0.1:1').register('probe-value', schema).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(DependencyError);
    expect(refused).toMatchObject({ retriable: true, message: expect.stringMatching(/ECONNREFUSED/) });
    const sockets: Socket[] = [];
    const silent = createNetServer((socket) => void sockets.push(socket));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const codec = new RegistryCodec(`http://127.0.0.1:${(silent.address() as AddressInfo).port}`, { requestTimeoutMs: 200 });
      const timedOut = await codec.register('probe-value', schema).catch((e: unknown) => e);
      expect(timedOut).toBeInstanceOf(DependencyError);
      expect(timedOut).toMatchObject({ retriable: true, message: expect.stringMatching(/Timeout \(200ms\)/) });
    } finally {
      sockets.forEach((s) => s.destroy());
      await new Promise((r) => silent.close(r));
    }
  });

  it('a registry that takes the connection and never answers is a retriable error after the timeout, not a hang', async () => {
    const { message } = await writtenBeforeTheRestart();
    const sockets: Socket[] = [];
    const silent = createNetServer((socket) => void sockets.push(socket));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const codec = new RegistryCodec(`http://127.0.0.1:${(silent.address() as AddressInfo).port}`, { requestTimeoutMs: 200 });
      const t0 = Date.now();
      const err = await codec.decode(message).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DependencyError);
      expect(err).toMatchObject({ retriable: true, message: expect.stringMatching(/timeout/i) });
      // Three attempts (the client's two retries) of 200 ms each, and their short backoff.
      expect(Date.now() - t0).toBeLessThan(5_000);
      expect(sockets.length).toBeGreaterThanOrEqual(1);
    } finally {
      sockets.forEach((s) => s.destroy());
      await new Promise((r) => silent.close(r));
    }
  });

  it('reports ids that differ from the ones registered before (a registry that held other schemas first)', async () => {
    const codec = new RegistryCodec(registry.url, { catalog: CATALOG });
    await codec.ensureCatalog();
    registry.reset();
    registry.register('someone-else-value', JSON.stringify(record('Other', 'x', 'string')));
    const { changed } = await codec.ensureCatalog();
    expect(changed).toEqual([
      { subject: 't.first-value', before: 1, after: 2 },
      { subject: 't.second-value', before: 2, after: 3 },
      { subject: 't.third-value', before: 3, after: 4 },
    ]);
  });

  it("another service setting a new subject's compatibility first (409 from Apicurio) is not a refusal: the id comes back", async () => {
    registry.configConflicts = 1;
    const codec = new RegistryCodec(registry.url, { catalog: CATALOG });
    const { ids } = await codec.ensureCatalog();
    expect([...ids.values()]).toEqual([1, 2, 3]);
    expect(registry.configConflicts).toBe(0);
  });
});
