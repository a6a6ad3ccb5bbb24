import type { AvroSchema } from './schema-source';
import { diffSchemas, type Direction, type SchemaProblem } from './schema-diff';

export interface CompatibilityResult {
  readonly compatible: boolean;
  readonly subject: string;
  /** The level the registry applies to the subject (BACKWARD, FULL, ...), when it could be read. */
  readonly level?: string;
  /** Field-level reasons, empty when compatible. */
  readonly problems: readonly SchemaProblem[];
  /** One line for CI logs naming the subject and each field at fault. */
  readonly message: string;
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

interface RegistryReply {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

async function call(url: string, init?: RequestInit): Promise<RegistryReply> {
  const res = await fetch(url, { ...init, headers: { Accept: CONTENT_TYPE, 'Content-Type': CONTENT_TYPE } });
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    body = { message: text };
  }
  if (res.status >= 500) throw new Error(`schema registry ${init?.method ?? 'GET'} ${url} failed: ${res.status} ${text}`);
  return { status: res.status, body };
}

/** 40401 = subject not found in the Confluent API: nothing to be compatible with yet. */
const isSubjectMissing = (r: RegistryReply) => r.status === 404 && r.body.error_code === 40401;

/**
 * Confluent's verbose messages look like `{..., description:'The field 'rating' at path ...', additionalInfo:'rating'}`.
 * Takes the field name when a message carries one; registries that give none are covered by the local diff.
 */
function problemsFromMessages(messages: unknown): SchemaProblem[] {
  if (!Array.isArray(messages)) return [];
  return messages.flatMap((m) => {
    const text = String(m);
    const field = /additionalInfo:'([^']+)'/.exec(text)?.[1] ?? /field '([^']+)'/.exec(text)?.[1];
    return field ? [{ field, message: text }] : [];
  });
}

function directionsFor(level: string | undefined): Direction[] {
  if (!level) return ['backward', 'forward'];
  if (level.startsWith('FULL')) return ['backward', 'forward'];
  if (level.startsWith('FORWARD')) return ['forward'];
  if (level.startsWith('BACKWARD')) return ['backward'];
  return [];
}

async function levelOf(base: string, subject: string): Promise<string | undefined> {
  // defaultToGlobal: without it Apicurio answers NONE for a subject that only inherits the global level.
  const own = await call(`${base}/config/${encodeURIComponent(subject)}?defaultToGlobal=true`);
  const reply = own.status === 200 ? own : await call(`${base}/config`);
  const level = reply.body.compatibilityLevel ?? reply.body.compatibility;
  return typeof level === 'string' ? level : undefined;
}

/**
 * Asks the registry whether `schema` may become the next version of `subject`
 * (POST /compatibility/subjects/{subject}/versions/latest?verbose=true). A subject that does not exist
 * yet is compatible. When it is not, the result names the fields at fault: from the registry's verbose
 * messages when they name one, otherwise from a diff against the latest registered version.
 */
export async function checkCompatibility(registryUrl: string, subject: string, schema: AvroSchema): Promise<CompatibilityResult> {
  const base = registryUrl.replace(/\/+$/, '');
  const subjectPath = `${base}/compatibility/subjects/${encodeURIComponent(subject)}/versions/latest?verbose=true`;
  const schemaText = typeof schema === 'string' ? schema : JSON.stringify(schema);
  const verdict = await call(subjectPath, { method: 'POST', body: JSON.stringify({ schema: schemaText, schemaType: 'AVRO' }) });
  if (isSubjectMissing(verdict)) {
    return { compatible: true, subject, problems: [], message: `${subject}: no version registered yet, compatible` };
  }
  if (verdict.status === 422) {
    const reason = String(verdict.body.message ?? 'invalid schema');
    return {
      compatible: false,
      subject,
      problems: [{ field: '(schema)', message: reason }],
      message: `${subject}: registry rejected the schema: ${reason}`,
    };
  }
  if (verdict.status !== 200) throw new Error(`schema registry POST ${subjectPath}: ${verdict.status} ${JSON.stringify(verdict.body)}`);
  if (verdict.body.is_compatible === true) return { compatible: true, subject, problems: [], message: `${subject}: compatible` };

  const level = await levelOf(base, subject);
  let problems = problemsFromMessages(verdict.body.messages);
  if (problems.length === 0) {
    const latest = await call(`${base}/subjects/${encodeURIComponent(subject)}/versions/latest`);
    if (latest.status === 200 && typeof latest.body.schema === 'string') {
      const parsed = typeof schema === 'string' ? (JSON.parse(schema) as AvroSchema) : schema;
      problems = diffSchemas(JSON.parse(latest.body.schema) as AvroSchema, parsed, directionsFor(level));
    }
  }
  const detail =
    problems.length > 0
      ? problems.map((p) => p.message).join('; ')
      : 'the registry gave no reason and the diff against the latest version found none (a *_TRANSITIVE level may conflict with an older version)';
  return {
    compatible: false,
    subject,
    ...(level ? { level } : {}),
    problems,
    message: `${subject}: incompatible${level ? ` (${level})` : ''}: ${detail}`,
  };
}
