import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import {
  checkCompatibility,
  eventDefinitions,
  SCHEMAS_DIR,
  readSchemaSource,
  topicNames,
  type AvroSchema,
  type EventType,
} from '@tally/events';
import { backoffMs, RegistryCodec } from '@tally/kafka';
import { errorMessage, isRetriable } from '@tally/runtime';
import type { CliConfig } from '../context';

export async function registerSchemas(config: CliConfig): Promise<number> {
  const codec = new RegistryCodec(config.SCHEMA_REGISTRY_URL);
  const names = topicNames(config.TOPIC_PREFIX);
  for (const d of eventDefinitions()) {
    const subject = names.subjectFor(d.type);
    const id = await registerRetrying(codec, subject, d.avroSchema);
    process.stdout.write(`  ${subject.padEnd(40)} id ${id}\n`);
  }
  return 0;
}

/**
 * `setup` runs at every deploy, often beside a registry that is still starting or briefly stalled:
 * a registry that does not answer is waited for (up to REGISTER_PATIENCE_MS), while a schema it
 * refuses fails at once, naming the subject.
 */
const REGISTER_PATIENCE_MS = 60_000;

async function registerRetrying(codec: RegistryCodec, subject: string, schema: AvroSchema): Promise<number> {
  const giveUpAt = Date.now() + REGISTER_PATIENCE_MS;
  for (let attempt = 0; ; attempt++) {
    try {
      return await codec.register(subject, schema);
    } catch (err) {
      const wait = backoffMs(attempt, 500, 5_000);
      if (!isRetriable(err) || Date.now() + wait > giveUpAt) throw err;
      process.stderr.write(`tally: registry did not answer for ${subject} (${errorMessage(err)}); retrying in ${wait} ms\n`);
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

/**
 * The last committed version of a schema file whose content differs from the file as it is now:
 * the version this change must stay compatible with. Undefined for a new file or without history.
 */
export function previousVersion(file: string, cwd = join(SCHEMAS_DIR, '..')): string | undefined {
  const rel = relative(cwd, file);
  const current = readFileSync(file, 'utf8');
  let commits: string[];
  try {
    commits = execFileSync('git', ['log', '--format=%H', '--', rel], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .split('\n')
      .filter(Boolean);
  } catch {
    return undefined; // not a git checkout (e.g. a release tarball): nothing to compare with
  }
  for (const c of commits) {
    const text = execFileSync('git', ['show', `${c}:${rel}`], { cwd, encoding: 'utf8' });
    if (JSON.stringify(JSON.parse(text)) !== JSON.stringify(JSON.parse(current))) return text;
  }
  return undefined;
}

/** Registers `previous` under a throwaway subject, asks the registry about `next`, removes the subject. */
export async function compareWithRegistry(registryUrl: string, label: string, previous: AvroSchema, next: AvroSchema) {
  const codec = new RegistryCodec(registryUrl);
  const subject = `tally-compat-check-${randomUUID()}-${label}`;
  await codec.register(subject, previous);
  try {
    const r = await checkCompatibility(registryUrl, subject, next);
    return { ...r, message: r.message.replace(subject, label) };
  } finally {
    const base = registryUrl.replace(/\/+$/, '');
    await fetch(`${base}/subjects/${encodeURIComponent(subject)}`, { method: 'DELETE' }).catch(() => undefined);
  }
}

/**
 * BACKWARD check of every schema: with `git`, against its previous committed version (CI: works on
 * an empty registry); otherwise against what the registry already has (deploy: the live subjects).
 */
export async function checkSchemas(config: CliConfig, opts: { git: boolean }): Promise<number> {
  const source = readSchemaSource();
  let failed = 0;
  for (const e of source.events) {
    const file = join(SCHEMAS_DIR, e.spec.schema);
    let r;
    if (opts.git) {
      const prev = previousVersion(file);
      if (prev === undefined) {
        process.stdout.write(`  ok   ${e.spec.schema}: no earlier version\n`);
        continue;
      }
      r = await compareWithRegistry(config.SCHEMA_REGISTRY_URL, e.spec.schema, JSON.parse(prev) as AvroSchema, e.schema);
    } else {
      r = await checkCompatibility(config.SCHEMA_REGISTRY_URL, topicNames(config.TOPIC_PREFIX).subjectFor(e.type as EventType), e.schema);
    }
    if (!r.compatible) failed++;
    process.stdout.write(`  ${r.compatible ? 'ok  ' : 'FAIL'} ${r.message}\n`);
  }
  process.stdout.write(failed ? `schemas: ${failed} incompatible change(s)\n` : 'schemas: all compatible\n');
  return failed ? 1 : 0;
}
