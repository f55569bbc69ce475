/**
 * Avro schema parsing and canonical form for the registry.
 *
 * A schema is valid when avsc accepts it (names required and checked, defaults
 * checked). Its canonical form is what Confluent stores and compares: Java
 * Avro's `Schema.toString()`: no whitespace, attributes in Avro's fixed order,
 * names relative to the enclosing namespace. Two schemas are "the same" when
 * their canonical strings are equal, so whitespace, key order and
 * `name: "ns.X"` versus `namespace: "ns", name: "X"` do not matter.
 *
 * @example
 * ```ts
 * import { canonicalAvro, parseAvroSchema } from "./avro.ts";
 * const a = parseAvroSchema('{ "type": "record", "name": "ns.User", "fields": [] }');
 * console.log(a.canonical); // {"type":"record","name":"User","namespace":"ns","fields":[]}
 * console.log(canonicalAvro(' "string" ')); // "string"
 * ```
 *
 * @module
 */
import avsc from "avsc";
import { RegistryError } from "./registry_errors.ts";

/** An avsc type (the parsed form used for compatibility checks). */
export type AvroType = avsc.Type;

/** A schema accepted by the registry. */
export interface ParsedAvroSchema {
  /** The schema as JSON. */
  readonly json: unknown;
  /** avsc's parsed type. */
  readonly type: AvroType;
  /** Java Avro's `Schema.toString()` form: the string stored and compared. */
  readonly canonical: string;
}

/**
 * The names of Avro's primitive types.
 *
 * @example
 * ```ts
 * import { AVRO_PRIMITIVES } from "./avro.ts";
 * console.log(AVRO_PRIMITIVES.has("long")); // true
 * ```
 */
export const AVRO_PRIMITIVES: ReadonlySet<string> = new Set([
  "null",
  "boolean",
  "int",
  "long",
  "float",
  "double",
  "bytes",
  "string",
]);
const SCHEMA_RESERVED = new Set([
  "doc",
  "fields",
  "items",
  "name",
  "namespace",
  "size",
  "symbols",
  "values",
  "type",
  "aliases",
]);
const ENUM_RESERVED = new Set([...SCHEMA_RESERVED, "default"]);
const FIELD_RESERVED = new Set(["default", "doc", "name", "order", "type", "aliases"]);

type Json = Record<string, unknown>;

interface Ctx {
  /** The namespace names are written relative to (Java's `names.space`). */
  space: string | null;
  /** Full names of the named types already written. */
  readonly defined: Set<string>;
}

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function splitName(name: string, namespace: unknown, enclosing: string | null) {
  const dot = name.lastIndexOf(".");
  if (dot >= 0) return { name: name.slice(dot + 1), space: name.slice(0, dot) || null };
  if (typeof namespace === "string") return { name, space: namespace || null };
  return { name, space: enclosing };
}

const full = (name: string, space: string | null) => (space ? `${space}.${name}` : name);

/** Java's `Name.getQualified(defaultSpace)`. */
function qualified(fullName: string, space: string | null): string {
  const dot = fullName.lastIndexOf(".");
  const own = dot >= 0 ? fullName.slice(0, dot) : null;
  return own === null || own === space ? fullName.slice(dot + 1) : fullName;
}

function props(obj: Json, reserved: Set<string>): string {
  let out = "";
  for (const [k, v] of Object.entries(obj)) {
    if (!reserved.has(k) && v !== undefined) out += `,${JSON.stringify(k)}:${JSON.stringify(v)}`;
  }
  return out;
}

function nameAndSpace(space: string | null, ctx: Ctx): string {
  if (space !== null) return space === ctx.space ? "" : `,"namespace":${JSON.stringify(space)}`;
  return ctx.space !== null ? `,"namespace":""` : "";
}

function aliases(list: unknown, space: string | null): string {
  if (!Array.isArray(list) || list.length === 0) return "";
  const names = list.map((a) => {
    const alias = String(a);
    const fullAlias = alias.includes(".") ? alias : full(alias, space);
    return JSON.stringify(qualified(fullAlias, space));
  });
  return `,"aliases":[${names.join(",")}]`;
}

function write(schema: unknown, ctx: Ctx): string {
  if (typeof schema === "string") {
    if (AVRO_PRIMITIVES.has(schema)) return JSON.stringify(schema);
    const ref = schema.includes(".")
      ? schema
      : ctx.space && ctx.defined.has(full(schema, ctx.space))
      ? full(schema, ctx.space)
      : schema;
    return JSON.stringify(qualified(ref, ctx.space));
  }
  if (Array.isArray(schema)) return `[${schema.map((s) => write(s, ctx)).join(",")}]`;
  if (!isObject(schema)) throw new Error(`not a schema: ${JSON.stringify(schema)}`);
  const type = schema.type;
  if (typeof type !== "string") return write(type, ctx);
  if (AVRO_PRIMITIVES.has(type)) {
    const extra = props(schema, SCHEMA_RESERVED);
    return extra ? `{"type":${JSON.stringify(type)}${extra}}` : JSON.stringify(type);
  }
  switch (type) {
    case "array":
      return `{"type":"array","items":${write(schema.items, ctx)}${
        props(schema, SCHEMA_RESERVED)
      }}`;
    case "map":
      return `{"type":"map","values":${write(schema.values, ctx)}${
        props(schema, SCHEMA_RESERVED)
      }}`;
    case "record":
    case "error":
    case "enum":
    case "fixed":
      return writeNamed(type, schema, ctx);
    default:
      // A reference to a named type written as {"type": "ns.Name"}.
      return write(type, ctx);
  }
}

function writeNamed(type: string, schema: Json, ctx: Ctx): string {
  const { name, space } = splitName(String(schema.name), schema.namespace, ctx.space);
  ctx.defined.add(full(name, space));
  let out = `{"type":${JSON.stringify(type)},"name":${JSON.stringify(name)}${
    nameAndSpace(space, ctx)
  }`;
  if (typeof schema.doc === "string") out += `,"doc":${JSON.stringify(schema.doc)}`;
  if (type === "enum") {
    out += `,"symbols":${JSON.stringify(schema.symbols ?? [])}`;
    if (typeof schema.default === "string") out += `,"default":${JSON.stringify(schema.default)}`;
    return `${out}${props(schema, ENUM_RESERVED)}${aliases(schema.aliases, space)}}`;
  }
  if (type === "fixed") {
    out += `,"size":${JSON.stringify(schema.size)}`;
    return `${out}${props(schema, SCHEMA_RESERVED)}${aliases(schema.aliases, space)}}`;
  }
  const saved = ctx.space;
  ctx.space = space;
  const fields = (Array.isArray(schema.fields) ? schema.fields : []).map((f) => writeField(f, ctx));
  ctx.space = saved;
  out += `,"fields":[${fields.join(",")}]`;
  return `${out}${props(schema, SCHEMA_RESERVED)}${aliases(schema.aliases, space)}}`;
}

function writeField(field: unknown, ctx: Ctx): string {
  if (!isObject(field)) throw new Error(`not a field: ${JSON.stringify(field)}`);
  let out = `{"name":${JSON.stringify(field.name)},"type":${write(field.type, ctx)}`;
  if (typeof field.doc === "string") out += `,"doc":${JSON.stringify(field.doc)}`;
  if (field.default !== undefined) out += `,"default":${JSON.stringify(field.default)}`;
  if (typeof field.order === "string" && field.order.toLowerCase() !== "ascending") {
    out += `,"order":${JSON.stringify(field.order.toLowerCase())}`;
  }
  if (Array.isArray(field.aliases) && field.aliases.length > 0) {
    out += `,"aliases":${JSON.stringify(field.aliases.map(String))}`;
  }
  return `${out}${props(field, FIELD_RESERVED)}}`;
}

/**
 * The canonical string of a schema given as JSON text, or as parsed JSON
 * (an object or array; a string is always read as JSON text).
 * Throws a plain `Error` when the JSON is not shaped like a schema; call
 * {@linkcode parseAvroSchema} to validate first.
 *
 * @example
 * ```ts
 * import { canonicalAvro } from "./avro.ts";
 * const a = canonicalAvro('{"type":"record","name":"A","fields":[{"name":"x","type":"int"}]}');
 * const b = canonicalAvro(`{
 *   "fields": [ { "type": "int", "name": "x" } ],
 *   "name": "A", "type": "record"
 * }`);
 * console.log(a === b); // true
 * ```
 */
export function canonicalAvro(schema: string | unknown): string {
  const json = typeof schema === "string" ? JSON.parse(schema) : schema;
  return write(json, { space: null, defined: new Set() });
}

/**
 * Parse and validate an Avro schema, returning avsc's type and the canonical
 * string. Invalid input throws {@linkcode RegistryError} 422/42201 with
 * Confluent's message shape (`Invalid schema of type AVRO, details: ...`).
 *
 * @example
 * ```ts
 * import { parseAvroSchema } from "./avro.ts";
 * const s = parseAvroSchema('{"type":"enum","name":"Color","symbols":["RED","GREEN"]}');
 * console.log(s.type.typeName, s.canonical);
 * ```
 */
export function parseAvroSchema(text: unknown): ParsedAvroSchema {
  if (typeof text !== "string" || text.trim() === "") {
    throw RegistryError.invalidSchema("Empty schema");
  }
  const fail = (e: unknown): never => {
    throw RegistryError.invalidSchema(
      `Invalid schema of type AVRO, details: ${(e as Error)?.message ?? String(e)}`,
      { cause: e },
    );
  };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    fail(e);
  }
  let type: AvroType | undefined;
  try {
    type = avsc.Type.forSchema(json as avsc.Schema, { noAnonymousTypes: true });
  } catch (e) {
    fail(e);
  }
  let canonical = "";
  try {
    canonical = write(json, { space: null, defined: new Set() });
  } catch (e) {
    fail(e);
  }
  return { json, type: type!, canonical };
}
