import type { AvroSchema } from './schema-source';

/** One reason a schema change breaks readers, naming the field (dotted path for nested records). */
export interface SchemaProblem {
  readonly field: string;
  readonly message: string;
}

/** Which side reads: BACKWARD = the new schema reads data written with the previous one; FORWARD = the reverse. */
export type Direction = 'backward' | 'forward';

type Obj = Record<string, unknown>;
type Named = Map<string, Obj>;

const PROMOTIONS: Record<string, readonly string[]> = {
  int: ['long', 'float', 'double'],
  long: ['float', 'double'],
  float: ['double'],
  string: ['bytes'],
  bytes: ['string'],
};

function fullName(s: Obj, ns: string | undefined): string {
  const name = String(s.name);
  return name.includes('.') ? name : `${(s.namespace as string | undefined) ?? ns ?? ''}.${name}`;
}

/** Collects named types (records, enums, fixed) so references by name can be followed. */
function collectNamed(schema: AvroSchema, named: Named, ns?: string): void {
  if (Array.isArray(schema)) return schema.forEach((s) => collectNamed(s, named, ns));
  if (typeof schema !== 'object' || schema === null) return;
  if (typeof schema.name === 'string' && ['record', 'enum', 'fixed', 'error'].includes(String(schema.type))) {
    const full = fullName(schema, ns);
    named.set(full, schema).set(full.slice(full.lastIndexOf('.') + 1), schema);
    ns = full.slice(0, full.lastIndexOf('.')) || undefined;
  }
  if (Array.isArray(schema.fields)) (schema.fields as Obj[]).forEach((f) => collectNamed(f.type as AvroSchema, named, ns));
  for (const k of ['items', 'values', 'type'] as const) if (typeof schema[k] === 'object') collectNamed(schema[k] as AvroSchema, named, ns);
}

/** Resolves a schema to its node: named references followed, `{type: 'long', logicalType}` reduced to 'long'. */
function node(s: AvroSchema, named: Named): AvroSchema {
  if (typeof s === 'string') return named.get(s) ?? s;
  if (Array.isArray(s)) return s;
  if (typeof s.type === 'string' && !['record', 'enum', 'fixed', 'array', 'map', 'error'].includes(s.type)) return node(s.type, named);
  if (typeof s.type === 'object') return node(s.type as AvroSchema, named);
  return s;
}

function label(s: AvroSchema, named: Named): string {
  const n = node(s, named);
  if (typeof n === 'string') return n;
  if (Array.isArray(n)) return n.map((b) => label(b, named)).join(' | ');
  if (n.type === 'array') return `array<${label(n.items as AvroSchema, named)}>`;
  if (n.type === 'map') return `map<${label(n.values as AvroSchema, named)}>`;
  return `${String(n.type)} ${String(n.name)}`;
}

class Resolver {
  readonly problems: SchemaProblem[] = [];
  constructor(
    private readonly rNamed: Named,
    private readonly wNamed: Named,
    private readonly dir: Direction,
  ) {}

  /** True when data written as `w` can be read as `r`; records problems at `path`. */
  readable(r: AvroSchema, w: AvroSchema, path: string, report = true): boolean {
    const rn = node(r, this.rNamed);
    const wn = node(w, this.wNamed);
    // A union is judged as a whole so the message shows both unions, not one branch of them.
    if (Array.isArray(wn)) return wn.every((b) => this.readable(rn, b, path, false)) || this.typeChanged(r, w, path, report);
    if (Array.isArray(rn)) {
      if (rn.some((b) => this.readable(b, wn, path, false))) return true;
      return this.typeChanged(r, w, path, report);
    }
    if (typeof rn === 'string' || typeof wn === 'string') {
      const ok = rn === wn || (typeof rn === 'string' && typeof wn === 'string' && (PROMOTIONS[wn] ?? []).includes(rn));
      return ok || this.typeChanged(r, w, path, report);
    }
    if (rn.type !== wn.type) return this.typeChanged(r, w, path, report);
    switch (rn.type) {
      case 'array':
        return this.readable(rn.items as AvroSchema, wn.items as AvroSchema, `${path}[]`, report);
      case 'map':
        return this.readable(rn.values as AvroSchema, wn.values as AvroSchema, `${path}{}`, report);
      case 'fixed':
        return rn.size === wn.size || this.typeChanged(r, w, path, report);
      case 'enum':
        return this.enumReadable(rn, wn, path, report);
      default:
        return this.recordReadable(rn, wn, path, report);
    }
  }

  private typeChanged(r: AvroSchema, w: AvroSchema, path: string, report: boolean): false {
    const [from, to] =
      this.dir === 'backward' ? [label(w, this.wNamed), label(r, this.rNamed)] : [label(r, this.rNamed), label(w, this.wNamed)];
    if (report) this.problems.push({ field: path, message: `field '${path}' changed type from ${from} to ${to}` });
    return false;
  }

  private enumReadable(r: Obj, w: Obj, path: string, report: boolean): boolean {
    const missing = (w.symbols as string[]).filter((s) => !(r.symbols as string[]).includes(s));
    if (missing.length === 0 || r.default !== undefined) return true;
    const what = this.dir === 'backward' ? 'removed symbols' : 'added symbols the previous version cannot read';
    if (report)
      this.problems.push({
        field: path,
        message: `field '${path}': enum ${String(r.name)} ${what}: ${missing.join(', ')} (and no enum default)`,
      });
    return false;
  }

  private recordReadable(r: Obj, w: Obj, path: string, report: boolean): boolean {
    const wFields = w.fields as Obj[];
    let ok = true;
    for (const rf of r.fields as Obj[]) {
      const names = [rf.name, ...((rf.aliases as string[] | undefined) ?? [])];
      const wf = wFields.find((f) => names.includes(f.name));
      const at = path ? `${path}.${String(rf.name)}` : String(rf.name);
      if (wf) ok = this.readable(rf.type as AvroSchema, wf.type as AvroSchema, at, report) && ok;
      else if (rf.default === undefined) {
        ok = false;
        const message =
          this.dir === 'backward'
            ? `field '${at}' added without a default (the new schema cannot read records written before it)`
            : `field '${at}' removed although the previous version has no default for it (its readers cannot read new records)`;
        if (report) this.problems.push({ field: at, message });
      }
    }
    return ok;
  }
}

/**
 * Field-level reasons why `next` is not compatible with `previous` in the given directions, computed
 * locally because registries differ in what they explain (Apicurio's ccompat API returns only
 * `is_compatible: false`). Follows the Avro resolution rules for records, unions, enums, promotions.
 */
export function diffSchemas(previous: AvroSchema, next: AvroSchema, directions: readonly Direction[]): SchemaProblem[] {
  const prevNamed: Named = new Map();
  const nextNamed: Named = new Map();
  collectNamed(previous, prevNamed);
  collectNamed(next, nextNamed);
  const problems: SchemaProblem[] = [];
  for (const dir of directions) {
    const resolver = dir === 'backward' ? new Resolver(nextNamed, prevNamed, dir) : new Resolver(prevNamed, nextNamed, dir);
    if (dir === 'backward') resolver.readable(next, previous, '');
    else resolver.readable(previous, next, '');
    for (const p of resolver.problems) if (!problems.some((q) => q.message === p.message)) problems.push(p);
  }
  return problems;
}
