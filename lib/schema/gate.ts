/**
 * The contract gate behind `deno task schemas check|register|diff`: each local
 * family's versions against what the registry holds for its subject, under the
 * subject's own level, with the local checker's reasons and the registry's own
 * verdict side by side (they must agree).
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { loadCatalog } from "./catalog.ts";
 * import { RegistryClient } from "./rest.ts";
 * import { checkCatalog } from "./gate.ts";
 * const config = loadConfig();
 * const rows = await checkCatalog(await loadCatalog(), new RegistryClient(config.schemaRegistry.url),
 *   config.topics);
 * console.log(rows.every((r) => r.ok));
 * ```
 *
 * @module
 */
import type { Config } from "../config.ts";
import { type Catalog, FAMILY_TOPICS, type LoadedSchema } from "./catalog.ts";
import { checkCompatibility, type CompatibilityLevel } from "./compatibility.ts";
import type { RegistryClient } from "./rest.ts";
import { subjectName, type SubjectStrategy } from "./subjects.ts";

/** One local schema checked against its subject. */
export interface GateRow {
  /** The schema family. */
  family: string;
  /** The local version checked. */
  version: number;
  /** The subject it registers under. */
  subject: string;
  /** The subject's compatibility level. */
  level: CompatibilityLevel;
  /** Registered versions of the subject when checked. */
  registered: number;
  /** Already registered (same schema), so nothing to check. */
  alreadyRegistered: boolean;
  /** Whether the version may be registered. */
  ok: boolean;
  /** The registry's own verdict, when it was asked. */
  registryOk?: boolean;
  /** Why not, one line per broken field and direction. */
  reasons: string[];
}

/**
 * The topic a family is written to, from config.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { topicOf } from "./gate.ts";
 * console.log(topicOf(loadConfig().topics, "order")); // shopstream.orders
 * ```
 */
export function topicOf(topics: Config["topics"], family: string): string {
  const key = FAMILY_TOPICS[family as keyof typeof FAMILY_TOPICS];
  if (!key) {
    throw new Error(
      `schemas/${family}/ has no topic: add it to FAMILY_TOPICS in lib/schema/catalog.ts`,
    );
  }
  return topics[key];
}

/**
 * The subject a loaded schema belongs to.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { loadCatalog } from "./catalog.ts";
 * import { subjectOf } from "./gate.ts";
 * const order = (await loadCatalog()).family("order").latest;
 * console.log(subjectOf(loadConfig().topics, order)); // shopstream.orders-value
 * ```
 */
export function subjectOf(
  topics: Config["topics"],
  schema: LoadedSchema,
  strategy: SubjectStrategy = "topic",
): string {
  return subjectName(strategy, topicOf(topics, schema.family), schema.fullName);
}

/**
 * Checks every version of every family that the registry does not hold yet
 * against the subject's registered versions (and the local versions before
 * it that are not registered), under the subject's level.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { loadCatalog } from "./catalog.ts";
 * import { RegistryClient } from "./rest.ts";
 * import { checkCatalog } from "./gate.ts";
 * const config = loadConfig();
 * const rows = await checkCatalog(await loadCatalog(),
 *   new RegistryClient(config.schemaRegistry.url), config.topics);
 * for (const r of rows.filter((r) => !r.ok)) console.log(r.subject, r.reasons);
 * ```
 */
export async function checkCatalog(
  catalog: Catalog,
  registry: RegistryClient,
  topics: Config["topics"],
  strategy: SubjectStrategy = "topic",
): Promise<GateRow[]> {
  const rows: GateRow[] = [];
  for (const family of catalog.families) {
    const subject = subjectOf(topics, family.latest, strategy);
    const history = await registry.history(subject);
    const level = await registry.compatibility(subject);
    const previous = history.map((h) => ({ version: h.version, schema: h.schema }));
    const canonical = new Set(history.map((h) => JSON.stringify(JSON.parse(h.schema))));
    for (const schema of family.versions) {
      const already = canonical.has(JSON.stringify(JSON.parse(schema.text))) ||
        (await isRegistered(registry, subject, schema.text, history.length));
      const row = {
        family: family.name,
        version: schema.version,
        subject,
        level,
        registered: history.length,
      };
      if (already) {
        rows.push({ ...row, alreadyRegistered: true, ok: true, reasons: [] });
        continue;
      }
      const local = checkCompatibility(level, schema.text, previous);
      let registryOk: boolean | undefined;
      if (history.length > 0) {
        registryOk = (await registry.testCompatibility(subject, schema.text)).is_compatible;
      }
      const reasons = local.problems.map((p) => `${p.direction}: ${p.explanation}`);
      if (registryOk !== undefined && registryOk !== local.compatible) {
        reasons.push(
          `the registry says ${registryOk ? "compatible" : "incompatible"}, the local checker ` +
            `${local.compatible ? "compatible" : "incompatible"}: report this as a bug`,
        );
      }
      rows.push({
        ...row,
        alreadyRegistered: false,
        ok: local.compatible && registryOk !== false,
        registryOk,
        reasons,
      });
      // Later local versions are checked as if this one had been registered.
      previous.push({ version: (previous.at(-1)?.version ?? 0) + 1, schema: schema.text });
    }
  }
  return rows;
}

async function isRegistered(
  registry: RegistryClient,
  subject: string,
  schema: string,
  versions: number,
): Promise<boolean> {
  if (versions === 0) return false;
  const r = await registry.raw("POST", `/subjects/${encodeURIComponent(subject)}`, { schema });
  return r.status === 200;
}

/**
 * Registers, oldest first, every version that {@linkcode checkCatalog} found
 * compatible and not yet registered; returns what was registered with its id.
 * Throws without registering anything when a row is incompatible.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { loadCatalog } from "./catalog.ts";
 * import { RegistryClient } from "./rest.ts";
 * import { checkCatalog, registerCatalog } from "./gate.ts";
 * const config = loadConfig();
 * const catalog = await loadCatalog();
 * const registry = new RegistryClient(config.schemaRegistry.url);
 * const done = await registerCatalog(catalog, registry,
 *   await checkCatalog(catalog, registry, config.topics));
 * console.log(done.map((r) => `${r.subject} ${r.id}`));
 * ```
 */
export async function registerCatalog(
  catalog: Catalog,
  registry: RegistryClient,
  rows: readonly GateRow[],
): Promise<(GateRow & { id: number })[]> {
  const broken = rows.filter((r) => !r.ok);
  if (broken.length > 0) {
    throw new Error(
      `not registering anything: ${
        broken.map((r) => `${r.family} v${r.version}`).join(", ")
      } would break their subjects; run \`deno task schemas check\` for the reasons`,
    );
  }
  const done: (GateRow & { id: number })[] = [];
  for (const row of rows.filter((r) => !r.alreadyRegistered)) {
    const schema = catalog.family(row.family).versions[row.version - 1];
    const { id } = await registry.register(row.subject, schema.text);
    done.push({ ...row, id });
  }
  return done;
}

/** One field's difference between two versions. */
export interface FieldChange {
  /** Dotted field path, e.g. `items.qty`. */
  field: string;
  /** What happened to the field. */
  change: "added" | "removed" | "changed";
  /** The field's old and new definition, as short text. */
  detail: string;
}

function fieldsOf(node: unknown, prefix: string, out: Map<string, Record<string, unknown>>): void {
  if (Array.isArray(node)) {
    node.forEach((n) => fieldsOf(n, prefix, out));
    return;
  }
  if (typeof node !== "object" || node === null) return;
  const obj = node as Record<string, unknown>;
  if (Array.isArray(obj.fields)) {
    for (const f of obj.fields as Record<string, unknown>[]) {
      const name = prefix ? `${prefix}.${f.name}` : String(f.name);
      out.set(name, f);
      fieldsOf(f.type, name, out);
    }
  } else if (obj.type === "array") fieldsOf(obj.items, `${prefix}[]`, out);
  else if (obj.type === "map") fieldsOf(obj.values, `${prefix}{}`, out);
}

function shape(f: Record<string, unknown>): string {
  const t = f.type as Record<string, unknown> | string | unknown[];
  const brief = (x: unknown): string => {
    if (typeof x === "string") return x;
    if (Array.isArray(x)) return x.map(brief).join("|");
    const o = x as Record<string, unknown>;
    if (o.logicalType) return String(o.logicalType);
    if (o.type === "enum") return `enum[${(o.symbols as string[]).join(",")}]`;
    if (o.type === "array") return `array<${brief(o.items)}>`;
    if (o.type === "record") return String(o.name);
    return String(o.type);
  };
  const def = f.default === undefined ? "" : ` = ${JSON.stringify(f.default)}`;
  const aliases = Array.isArray(f.aliases) ? ` aliases ${f.aliases.join(",")}` : "";
  return `${brief(t)}${def}${aliases}`;
}

/**
 * Field-by-field differences from `a` to `b` (added, removed, changed type,
 * default or aliases).
 *
 * @example
 * ```ts
 * import { loadCatalog } from "./catalog.ts";
 * import { diffSchemas } from "./gate.ts";
 * const [v1, v2] = (await loadCatalog()).family("order").versions;
 * console.log(diffSchemas(v1.schema, v2.schema).map((c) => `${c.change} ${c.field}`));
 * ```
 */
export function diffSchemas(a: unknown, b: unknown): FieldChange[] {
  const before = new Map<string, Record<string, unknown>>();
  const after = new Map<string, Record<string, unknown>>();
  fieldsOf(a, "", before);
  fieldsOf(b, "", after);
  const out: FieldChange[] = [];
  for (const [name, f] of after) {
    const old = before.get(name);
    if (!old) out.push({ field: name, change: "added", detail: shape(f) });
    else if (shape(old) !== shape(f)) {
      out.push({ field: name, change: "changed", detail: `${shape(old)} -> ${shape(f)}` });
    }
  }
  for (const [name, f] of before) {
    if (!after.has(name)) out.push({ field: name, change: "removed", detail: shape(f) });
  }
  return out;
}
