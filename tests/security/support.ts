import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { eventually, uniqueName } from '../helpers/env';
import { kafka } from '../helpers/kafka';
import { endOffsets } from '../helpers/pipeline';

/** A secret no log line, URL or fixture could contain by accident, so finding it in output means it leaked. */
export function secret(label: string): string {
  return `${label}-${randomBytes(12).toString('hex')}`;
}

export interface RawRecord {
  topic: string;
  partition: number;
  key: string | null;
  value: Buffer | null;
}

/**
 * Every record of the topics, from the beginning to the end offsets taken now. The topics are the
 * test's own (TOPIC_PREFIX), so everything in them was produced by the process under test.
 */
export async function readToEnd(topics: readonly string[], timeoutMs = 90_000): Promise<RawRecord[]> {
  const ends = await endOffsets(topics);
  const pending = new Set([...ends].filter(([, high]) => high > 0).map(([tp]) => tp));
  const out: RawRecord[] = [];
  if (pending.size === 0) return out;
  const consumer = kafka.consumer({ groupId: uniqueName('security-reader'), maxBytesPerPartition: 4 << 20 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [...topics], fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        const tp = `${batch.topic}:${batch.partition}`;
        for (const m of batch.messages) {
          if (Number(m.offset) >= ends.get(tp)!) break;
          out.push({ topic: batch.topic, partition: batch.partition, key: m.key?.toString() ?? null, value: m.value });
          if (Number(m.offset) + 1 === ends.get(tp)) pending.delete(tp);
        }
      },
    });
    await eventually(
      async () => (pending.size === 0 ? true : undefined),
      timeoutMs,
      `the end of ${pending.size} partitions (${[...pending].slice(0, 3).join(', ')}…)`,
    );
    return out;
  } finally {
    await consumer.disconnect();
  }
}

/** Local addresses a LAN peer could reach this machine on: every interface address except loopback. */
export function externalAddresses(): string[] {
  return Object.values(networkInterfaces()).flatMap((list) => (list ?? []).filter((a) => !a.internal).map((a) => a.address));
}

/** The addresses `pid` listens on for TCP (from `ss -ltnp`), e.g. ['127.0.0.1:18080']. */
export function listeningAddresses(pid: number): string[] {
  const lines = execFileSync('ss', ['-H', '-ltnp'], { encoding: 'utf8' }).split('\n');
  return lines.filter((l) => l.includes(`pid=${pid},`)).map((l) => l.trim().split(/\s+/)[3]!);
}

/** Whether a TCP connection to host:port is accepted. */
export function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port, timeout: 3_000 });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
    s.once('timeout', () => {
      s.destroy();
      resolve(false);
    });
  });
}

/** Lines of a process' output that contain any of `needles`, for a readable failure message. */
export function linesContaining(output: string, needles: readonly string[]): string[] {
  return output.split('\n').filter((line) => needles.some((n) => line.includes(n)));
}

export interface StreamedAnswer {
  status: number;
  body: string;
}

/**
 * POSTs a body that never ends, over a raw socket: `bytes` of a chunked body without the closing
 * chunk, or, with `declaredLength`, that Content-Length and no body byte at all. Only a server that
 * decides on what it has (the limit passed, or announced) answers; one that waits for the whole body
 * never does, and the socket timeout turns that into a failure. Writing no more than the server reads
 * before it decides matters: bytes it never reads make its close a reset, which can swallow the answer.
 */
export function unfinishedBody(
  port: number,
  path: string,
  headers: Record<string, string>,
  o: { bytes: number; declaredLength?: number },
): Promise<StreamedAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const chunked = o.declaredLength === undefined;
    const head = Object.entries({
      host: `127.0.0.1:${port}`,
      ...headers,
      ...(chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(o.declaredLength) }),
    })
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    socket.write(`POST ${path} HTTP/1.1\r\n${head}\r\n`);
    if (chunked) socket.write(`${o.bytes.toString(16)}\r\n${'x'.repeat(o.bytes)}\r\n`);
    let answer = '';
    socket.on('data', (d) => {
      answer += d.toString();
      if (/\r\n\r\n[\s\S]*\}$/.test(answer)) socket.destroy();
    });
    socket.on('error', () => undefined); // the server may reset the connection once it has answered
    socket.on('close', () => {
      if (!answer) return reject(new Error('no answer to an unfinished body'));
      resolve({ status: Number(answer.split(' ')[1]), body: answer.slice(answer.indexOf('\r\n\r\n') + 4) });
    });
    socket.setTimeout(30_000, () => socket.destroy());
  });
}
