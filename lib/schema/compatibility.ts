/**
 * The one compatibility checker: the local CLI/CI gate, the notebooks and the
 * native registry's REST API all call {@linkcode checkCompatibility}, so the
 * local verdict and the registry's cannot drift apart.
 *
 * The verdict comes from avsc: `reader.createResolver(writer)` throws exactly
 * when the reader cannot read data written with the writer schema.
 * BACKWARD: the new schema reads data of the latest one; FORWARD: the latest
 * reads data of the new one; FULL: both; `_TRANSITIVE`: against every live
 * version instead of the latest; NONE: always compatible. The messages
 * explain a failure the way Confluent does (`{errorType:..., description:...}`).
 *
 * @example
 * ```ts
 * import { checkCompatibility } from "./compatibility.ts";
 * const v1 = '{"type":"record","name":"U","fields":[{"name":"id","type":"int"}]}';
 * const v2 = '{"type":"record","name":"U","fields":[{"name":"id","type":"int"},' +
 *   '{"name":"email","type":"string"}]}';
 * const r = checkCompatibility("BACKWARD", v2, [{ version: 1, schema: v1 }]);
 * console.log(r.compatible, r.messages[0]); // false {errorType:'READER_FIELD_MISSING_DEFAULT_VALUE', ...
 * ```
 *
 * @module
 */
import { type AvroType, parseAvroSchema, type ParsedAvroSchema } from "./avro.ts";

/**
 * Every compatibility level, in Confluent's spelling.
 *
 * @example
 * ```ts
 * import { COMPATIBILITY_LEVELS } from "./compatibility.ts";
 * console.log(COMPATIBILITY_LEVELS.includes("FULL")); // true
 * ```
 */
export const COMPATIBILITY_LEVELS = [
  "NONE",
  "BACKWARD",
  "BACKWARD_TRANSITIVE",
  "FORWARD",
  "FORWARD_TRANSITIVE",
  "FULL",
  "FULL_TRANSITIVE",
] as const;

/** One of {@linkcode COMPATIBILITY_LEVELS}. */
export type CompatibilityLevel = typeof COMPATIBILITY_LEVELS[number];

/**
 * The level used when neither the subject nor the registry sets one.
 *
 * @example
 * ```ts
 * import { DEFAULT_COMPATIBILITY } from "./compatibility.ts";
 * console.log(DEFAULT_COMPATIBILITY); // BACKWARD
 * ```
 */
export const DEFAULT_COMPATIBILITY: CompatibilityLevel = "BACKWARD";

/**
 * The level named by `value` (case-insensitive), or undefined when it names none.
 *
 * @example
 * ```ts
 * import { parseCompatibilityLevel } from "./compatibility.ts";
 * console.log(parseCompatibilityLevel("full_transitive"), parseCompatibilityLevel("x"));
 * // FULL_TRANSITIVE undefined
 * ```
 */
export function parseCompatibilityLevel(value: unknown): CompatibilityLevel | undefined {
  if (typeof value !== "string") return undefined;
  const upper = value.trim().toUpperCase();
  return (COMPATIBILITY_LEVELS as readonly string[]).includes(upper)
    ? upper as CompatibilityLevel
    : undefined;
}

/**
 * Whether `reader` can read data written with `writer`: avsc's resolver
 * verdict. Returns null when it can, else avsc's reason.
 *
 * @example
 * ```ts
 * import avsc from "avsc";
 * import { whyCannotRead } from "./compatibility.ts";
 * console.log(whyCannotRead(avsc.Type.forSchema("long"), avsc.Type.forSchema("int"))); // null
 * console.log(whyCannotRead(avsc.Type.forSchema("int"), avsc.Type.forSchema("long")));
 * // cannot read "long" as "int"
 * ```
 */
export function whyCannotRead(reader: AvroType, writer: AvroType): string | null {
  try {
    reader.createResolver(writer);
    return null;
  } catch (e) {
    return (e as Error)?.message ?? String(e);
  }
}

// deno-lint-ignore no-explicit-any
type AnyType = any;

interface Incompatibility {
  type: string;
  path: string;
  info: string;
  /** The field in dotted form (`items[].qty`), empty for the top level. */
  field: string;
}

function kind(t: AnyType): string {
  const name: string = t.typeName ?? "";
  if (name.startsWith("union")) return "union";
  if (name.startsWith("logical:")) return kind(t.underlyingType ?? {});
  return name;
}

const label = (t: AnyType) => kind(t).toUpperCase();

function nameMatches(reader: AnyType, writer: AnyType): boolean {
  return reader.name === writer.name || (reader.aliases ?? []).includes(writer.name);
}

function explain(
  reader: AnyType,
  writer: AnyType,
  path: string,
  out: Incompatibility[],
  seen: Set<string>,
  field = "",
): void {
  if (whyCannotRead(reader, writer) === null) return;
  const at = (suffix: string) => (path === "/" ? `/${suffix}` : `${path}/${suffix}`);
  const rk = kind(reader);
  const wk = kind(writer);
  if (wk === "union") {
    writer.types.forEach((branch: AnyType, i: number) => {
      if (whyCannotRead(reader, branch) === null) return;
      if (rk === "union") {
        out.push({
          type: "MISSING_UNION_BRANCH",
          field,
          path: at(String(i)),
          info: `reader union lacking writer type: ${label(branch)}`,
        });
      } else explain(reader, branch, at(String(i)), out, seen, field);
    });
    return;
  }
  if (rk === "union") {
    out.push({
      type: "MISSING_UNION_BRANCH",
      field,
      path,
      info: `reader union lacking writer type: ${label(writer)}`,
    });
    return;
  }
  if (rk !== wk) {
    out.push({
      type: "TYPE_MISMATCH",
      field,
      path,
      info: `reader type: ${label(reader)} not compatible with writer type: ${label(writer)}`,
    });
    return;
  }
  if (rk === "record" || rk === "error" || rk === "enum" || rk === "fixed") {
    const pair = `${reader.name}|${writer.name}`;
    if (seen.has(pair)) return;
    seen.add(pair);
    if (!nameMatches(reader, writer)) {
      out.push({
        type: "NAME_MISMATCH",
        field,
        path: at("name"),
        info: `expected: ${writer.name}`,
      });
      return;
    }
  }
  const before = out.length;
  switch (rk) {
    case "record":
    case "error":
      reader.fields.forEach((rf: AnyType, i: number) => {
        const names = [rf.name, ...(rf.aliases ?? [])];
        const wf = writer.fields.find((f: AnyType) => names.includes(f.name));
        const name = field ? `${field}.${rf.name}` : rf.name;
        if (wf) explain(rf.type, wf.type, at(`fields/${i}/type`), out, seen, name);
        else if (rf.defaultValue() === undefined) {
          out.push({
            type: "READER_FIELD_MISSING_DEFAULT_VALUE",
            field: name,
            path: at(`fields/${i}`),
            info: rf.name,
          });
        }
      });
      break;
    case "enum": {
      const missing = writer.symbols.filter((s: string) => !reader.symbols.includes(s));
      if (missing.length > 0 && reader.default === undefined) {
        out.push({
          type: "MISSING_ENUM_SYMBOLS",
          field,
          path: at("symbols"),
          info: `[${missing.join(", ")}]`,
        });
      }
      break;
    }
    case "fixed":
      if (reader.size !== writer.size) {
        out.push({
          type: "FIXED_SIZE_MISMATCH",
          field,
          path: at("size"),
          info: `expected: ${writer.size}, found: ${reader.size}`,
        });
      }
      break;
    case "array":
      explain(reader.itemsType, writer.itemsType, at("items"), out, seen, `${field}[]`);
      break;
    case "map":
      explain(reader.valuesType, writer.valuesType, at("values"), out, seen, `${field}{}`);
      break;
  }
  if (out.length === before && rk !== "record" && rk !== "error") {
    out.push({
      type: "TYPE_MISMATCH",
      field,
      path,
      info: `reader type: ${label(reader)} not compatible with writer type: ${label(writer)}`,
    });
  }
}

function describe(i: Incompatibility, readerLabel: string, writerLabel: string): string {
  let description: string;
  switch (i.type) {
    case "FIXED_SIZE_MISMATCH":
      description = `The size of FIXED type field at path '${i.path}' in the ${readerLabel} ` +
        `schema does not match with the ${writerLabel} schema`;
      break;
    case "TYPE_MISMATCH":
      description = `The type (path '${i.path}') of a field in the ${readerLabel} schema does ` +
        `not match with the ${writerLabel} schema`;
      break;
    case "NAME_MISMATCH":
      description = `The name of the schema has changed (path '${i.path}')`;
      break;
    case "MISSING_ENUM_SYMBOLS":
      description = `The ${readerLabel} schema is missing enum symbols '${i.info}' at path ` +
        `'${i.path}' in the ${writerLabel} schema`;
      break;
    case "MISSING_UNION_BRANCH":
      description = `The ${readerLabel} schema is missing a type inside a union field at path ` +
        `'${i.path}' in the ${writerLabel} schema`;
      break;
    case "READER_FIELD_MISSING_DEFAULT_VALUE":
      description = `The field '${i.info}' at path '${i.path}' in the ${readerLabel} schema has ` +
        `no default value and is missing in the ${writerLabel} schema`;
      break;
    default:
      description = `The ${readerLabel} schema cannot read data written with the ${writerLabel} ` +
        `schema`;
  }
  return `{errorType:'${i.type}', description:'${description}', additionalInfo:'${i.info}'}`;
}

function findIncompatibilities(reader: AvroType, writer: AvroType): Incompatibility[] {
  const reason = whyCannotRead(reader, writer);
  if (reason === null) return [];
  const found: Incompatibility[] = [];
  explain(reader, writer, "/", found, new Set());
  if (found.length === 0) found.push({ type: "INCOMPATIBLE", field: "", path: "/", info: reason });
  return found;
}

/**
 * Why `reader` cannot read data written with `writer`, as Confluent-style
 * messages naming the field, the path and the direction; empty when it can.
 * `readerLabel`/`writerLabel` are "new"/"old" (BACKWARD) or "old"/"new" (FORWARD).
 *
 * @example
 * ```ts
 * import { explainIncompatibility } from "./compatibility.ts";
 * import { parseAvroSchema } from "./avro.ts";
 * const oldS = parseAvroSchema('{"type":"enum","name":"E","symbols":["A","B"]}').type;
 * const newS = parseAvroSchema('{"type":"enum","name":"E","symbols":["A"]}').type;
 * console.log(explainIncompatibility(newS, oldS, "new", "old"));
 * // ["{errorType:'MISSING_ENUM_SYMBOLS', description:'The new schema is missing enum symbols ..."]
 * ```
 */
export function explainIncompatibility(
  reader: AvroType,
  writer: AvroType,
  readerLabel: string,
  writerLabel: string,
): string[] {
  return findIncompatibilities(reader, writer).map((i) => describe(i, readerLabel, writerLabel));
}

/** One reason a candidate breaks a level, in words a learner can act on. */
export interface CompatibilityProblem {
  /** Confluent's error type, e.g. `READER_FIELD_MISSING_DEFAULT_VALUE`. */
  readonly type: string;
  /** The field, dotted (`items[].qty`); empty when the whole schema is at fault. */
  readonly field: string;
  /** The JSON path in the reader schema, as Confluent reports it. */
  readonly path: string;
  /** Which side reads: the `new` schema (BACKWARD check) or the `old` one (FORWARD check). */
  readonly reader: "new" | "old";
  /** The registered version on the other side, when known. */
  readonly oldVersion?: number;
  /** The direction that fails: BACKWARD (new reads old) or FORWARD (old reads new). */
  readonly direction: "BACKWARD" | "FORWARD";
  /** A sentence: which field, which reader, what breaks, who is hurt. */
  readonly explanation: string;
}

function sentence(
  i: Incompatibility,
  reader: "new" | "old",
  oldVersion: number | undefined,
): string {
  const old = oldVersion === undefined ? "the old schema" : `v${oldVersion}`;
  const readerName = reader === "new" ? "the new schema" : old;
  const writerName = reader === "new" ? old : "the new schema";
  const who = reader === "new"
    ? `consumers on the new schema cannot read records written with ${old}`
    : `consumers still on ${old} cannot read records written with the new schema`;
  const at = i.field ? `field '${i.field}'` : "the schema";
  let what: string;
  switch (i.type) {
    case "READER_FIELD_MISSING_DEFAULT_VALUE":
      what = `${readerName} requires ${at}, ${writerName} does not write it, and it has no default`;
      break;
    case "TYPE_MISMATCH": {
      const m = /reader type: (\S+) not compatible with writer type: (\S+)/.exec(i.info);
      what = m
        ? `${at}: ${readerName} reads it as ${m[1]} but ${writerName} writes ${m[2]}`
        : `${at}: ${i.info}`;
      break;
    }
    case "MISSING_ENUM_SYMBOLS":
      what =
        `${at}: ${readerName}'s enum lacks ${i.info}, which ${writerName} may write, and has no default symbol`;
      break;
    case "MISSING_UNION_BRANCH":
      what = `${at}: ${i.info.replace("reader union", `${readerName}'s union`)}`;
      break;
    case "NAME_MISMATCH":
      what = `${at}: the type's name changed (${i.info}) without an alias`;
      break;
    case "FIXED_SIZE_MISMATCH":
      what = `${at}: fixed size differs (${i.info})`;
      break;
    default:
      what = `${at}: ${i.info}`;
  }
  return `${what}; ${who}`;
}

/** A version already in the subject, for {@linkcode checkCompatibility}. */
export interface PreviousSchema {
  /** Its version number, quoted in the messages. */
  readonly version?: number;
  /** Its schema string (canonical or not). */
  readonly schema: string;
  /** Its schema type; anything but AVRO (or absent) is incompatible with an Avro schema. */
  readonly schemaType?: string;
}

/** The outcome of {@linkcode checkCompatibility}. */
export interface CompatibilityResult {
  /** Whether the new schema is compatible at the checked level. */
  readonly compatible: boolean;
  /** Why not, Confluent-style; empty when compatible. */
  readonly messages: string[];
  /** Why not, one entry per broken field and direction; empty when compatible. */
  readonly problems: CompatibilityProblem[];
}

const parsedCache = new Map<string, AvroType>();

function typeOf(schema: string): AvroType {
  let t = parsedCache.get(schema);
  if (!t) {
    t = parseAvroSchema(schema).type;
    if (parsedCache.size > 1000) parsedCache.clear();
    parsedCache.set(schema, t);
  }
  return t;
}

/**
 * Check `candidate` against the subject's live versions (`previous`, oldest
 * first) under `level`. Non-transitive levels look only at the last entry;
 * transitive ones at all of them, newest first, stopping at the first failure
 * as Confluent does.
 *
 * @example
 * ```ts
 * import { checkCompatibility } from "./compatibility.ts";
 * const v1 = '{"type":"record","name":"U","fields":[{"name":"id","type":"int"}]}';
 * const v2 = '{"type":"record","name":"U","fields":[{"name":"id","type":"long"}]}';
 * console.log(checkCompatibility("BACKWARD", v2, [{ schema: v1 }]).compatible); // true
 * console.log(checkCompatibility("FORWARD", v2, [{ schema: v1 }]).compatible); // false
 * ```
 */
export function checkCompatibility(
  level: CompatibilityLevel,
  candidate: string | ParsedAvroSchema,
  previous: readonly PreviousSchema[],
): CompatibilityResult {
  if (level === "NONE" || previous.length === 0) {
    return { compatible: true, messages: [], problems: [] };
  }
  const next = typeof candidate === "string" ? typeOf(candidate) : candidate.type;
  const transitive = level.endsWith("_TRANSITIVE");
  const base = level.replace("_TRANSITIVE", "");
  const against = transitive ? [...previous].reverse() : [previous[previous.length - 1]];
  for (const old of against) {
    const messages: string[] = [];
    const problems: CompatibilityProblem[] = [];
    const note = (found: Incompatibility[], reader: "new" | "old") => {
      for (const i of found) {
        messages.push(describe(i, reader, reader === "new" ? "old" : "new"));
        problems.push({
          type: i.type,
          field: i.field,
          path: i.path,
          reader,
          oldVersion: old.version,
          direction: reader === "new" ? "BACKWARD" : "FORWARD",
          explanation: sentence(i, reader, old.version),
        });
      }
    };
    if (old.schemaType !== undefined && old.schemaType.toUpperCase() !== "AVRO") {
      messages.push("Incompatible because of different schema type");
      problems.push({
        type: "SCHEMA_TYPE_MISMATCH",
        field: "",
        path: "/",
        reader: "new",
        oldVersion: old.version,
        direction: "BACKWARD",
        explanation: `v${old.version ?? "?"} is a ${old.schemaType} schema, the candidate is Avro`,
      });
    } else {
      const oldType = typeOf(old.schema);
      if (base === "FORWARD" || base === "FULL") note(findIncompatibilities(oldType, next), "old");
      if (base === "BACKWARD" || base === "FULL") note(findIncompatibilities(next, oldType), "new");
    }
    if (messages.length > 0) {
      if (old.version !== undefined) messages.push(`{oldSchemaVersion: ${old.version}}`);
      messages.push(`{oldSchema: '${old.schema}'}`);
      messages.push(`{validateFields: 'false', compatibility: '${level}'}`);
      return { compatible: false, messages, problems };
    }
  }
  return { compatible: true, messages: [], problems: [] };
}
