/**
 * Loads the `.avsc` contracts under `schemas/`: shared named types from
 * `schemas/common/`, then one folder per family (`order/`, `payment/`, ...)
 * holding `v1.avsc`, `v2.avsc`, ... References to a shared type by its full
 * name (`"type": "shopstream.common.Envelope"`) are inlined at first use, so
 * every loaded schema is self-contained: that is what gets registered, and
 * any registry (native or Confluent's) accepts it without schema references.
 *
 * @example
 * ```ts
 * import { loadCatalog } from "./catalog.ts";
 * const catalog = await loadCatalog();
 * for (const f of catalog.families) console.log(f.name, f.versions.map((v) => v.version));
 * // order [1, 2] ...
 * ```
 *
 * @module
 */
import avsc from "avsc";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { avroOptions } from "./logical_types.ts";
import { AVRO_PRIMITIVES } from "./avro.ts";

/**
 * The `schemas/` folder of this repository, as a path ending in `/`.
 *
 * @example
 * ```ts
 * import { SCHEMAS_DIR } from "./catalog.ts";
 * console.log(SCHEMAS_DIR.endsWith("/schemas/")); // true
 * ```
 */
export const SCHEMAS_DIR: string = fileURLToPath(new URL("../../schemas/", import.meta.url));

/**
 * The family folders and the config topic key (`config.topics.<key>`) each is written to.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { FAMILY_TOPICS } from "./catalog.ts";
 * console.log(loadConfig().topics[FAMILY_TOPICS.order]); // shopstream.orders
 * ```
 */
export const FAMILY_TOPICS = {
  order: "orders",
  payment: "payments",
  shipment: "shipments",
  clickstream: "clickstream",
} as const;

/** A family folder name, e.g. `order`. */
export type FamilyName = keyof typeof FAMILY_TOPICS;

/** One `.avsc` file, resolved. */
export interface LoadedSchema {
  /** The family (folder), e.g. `order`; `examples` for the exercise variants. */
  readonly family: string;
  /** The N of `vN.avsc`; 0 for files not named that way (examples). */
  readonly version: number;
  /** Absolute path of the file. */
  readonly file: string;
  /** The record's full name, e.g. `shopstream.order.OrderEvent`. */
  readonly fullName: string;
  /** The self-contained schema (shared types inlined). */
  readonly schema: Record<string, unknown>;
  /** `schema` as compact JSON text, ready to register. */
  readonly text: string;
  /** avsc's type with logical types on (Date, Decimal). */
  readonly type: avsc.Type;
}

/** A family's versions, oldest first. */
export interface SchemaFamily {
  /** The family's folder name under `schemas/`, e.g. `order`. */
  readonly name: string;
  /** Every version, oldest first. */
  readonly versions: readonly LoadedSchema[];
  /** The newest version. */
  readonly latest: LoadedSchema;
}

/** Everything under `schemas/`. */
export interface Catalog {
  /** The folder the catalog was loaded from. */
  readonly dir: string;
  /** Shared named types by full name. */
  readonly named: ReadonlyMap<string, Record<string, unknown>>;
  /** Every family, in name order. */
  readonly families: readonly SchemaFamily[];
  /** The family called `name`; throws with the list when there is none. */
  family(name: string): SchemaFamily;
}

/**
 * A schema file that cannot be loaded; the message names the file and the fix.
 *
 * @example
 * ```ts
 * import { SchemaFileError } from "./catalog.ts";
 * console.log(new SchemaFileError("schemas/x/v1.avsc", "is not JSON").message);
 * // schemas/x/v1.avsc: is not JSON
 * ```
 */
export class SchemaFileError extends Error {
  /** The bad file, what is wrong with it, and an optional `cause`. */
  constructor(readonly file: string, message: string, options?: ErrorOptions) {
    super(`${file}: ${message}`, options);
    this.name = "SchemaFileError";
  }
}

const NAMED = new Set(["record", "error", "enum", "fixed"]);

type Json = Record<string, unknown>;

function fullNameOf(schema: Json, enclosing: string | undefined): string {
  const name = String(schema.name);
  if (name.includes(".")) return name;
  const ns = typeof schema.namespace === "string" ? schema.namespace : enclosing;
  return ns ? `${ns}.${name}` : name;
}

function inline(
  node: unknown,
  named: ReadonlyMap<string, Json>,
  defined: Set<string>,
  namespace: string | undefined,
  file: string,
): unknown {
  if (typeof node === "string") {
    if (AVRO_PRIMITIVES.has(node)) return node;
    const full = node.includes(".") ? node : namespace ? `${namespace}.${node}` : node;
    if (defined.has(full) || defined.has(node)) return node;
    const shared = named.get(full) ?? named.get(node);
    if (!shared) {
      throw new SchemaFileError(
        file,
        `unknown type "${node}": define it in the file or in schemas/common/ and refer to it ` +
          `by its full name (e.g. "shopstream.common.Envelope")`,
      );
    }
    return inline(structuredClone(shared), named, defined, undefined, file);
  }
  if (Array.isArray(node)) return node.map((n) => inline(n, named, defined, namespace, file));
  if (typeof node !== "object" || node === null) return node;
  const obj = node as Json;
  if (typeof obj.type === "string" && NAMED.has(obj.type)) {
    const full = fullNameOf(obj, namespace);
    defined.add(full);
    const ns = full.includes(".") ? full.slice(0, full.lastIndexOf(".")) : undefined;
    if (Array.isArray(obj.fields)) {
      obj.fields = obj.fields.map((f: Json) => ({
        ...f,
        type: inline(f.type, named, defined, ns, file),
      }));
    }
    return obj;
  }
  if (obj.type === "array") {
    return { ...obj, items: inline(obj.items, named, defined, namespace, file) };
  }
  if (obj.type === "map") {
    return { ...obj, values: inline(obj.values, named, defined, namespace, file) };
  }
  return { ...obj, type: inline(obj.type, named, defined, namespace, file) };
}

async function readJson(file: string): Promise<Json> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (e) {
    throw new SchemaFileError(file, `cannot read it (${(e as Error).message})`, { cause: e });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new SchemaFileError(file, `is not JSON: ${(e as Error).message}`, { cause: e });
  }
}

function missingDocs(node: unknown, where: string, out: string[]): void {
  if (Array.isArray(node)) node.forEach((n) => missingDocs(n, where, out));
  if (typeof node !== "object" || node === null || Array.isArray(node)) return;
  const obj = node as Json;
  if (Array.isArray(obj.fields)) {
    for (const f of obj.fields as Json[]) {
      const at = `${where}${where ? "." : ""}${f.name}`;
      if (typeof f.doc !== "string" || f.doc.trim() === "") out.push(at);
      missingDocs(f.type, at, out);
    }
  } else if (obj.type === "array") missingDocs(obj.items, `${where}[]`, out);
  else if (obj.type === "map") missingDocs(obj.values, `${where}{}`, out);
}

/**
 * Loads one `.avsc` file against the shared named types `named`, returning the
 * self-contained schema and its avsc type. Every field must have a `doc`.
 *
 * @example
 * ```ts
 * import { loadCatalog, loadSchemaFile, SCHEMAS_DIR } from "./catalog.ts";
 * const { named } = await loadCatalog();
 * const bad = await loadSchemaFile(`${SCHEMAS_DIR}examples/order_v2_required_field.avsc`, named);
 * console.log(bad.fullName); // shopstream.order.OrderEvent
 * ```
 */
export async function loadSchemaFile(
  file: string,
  named: ReadonlyMap<string, Record<string, unknown>>,
  family = "examples",
): Promise<LoadedSchema> {
  const json = await readJson(file);
  const schema = inline(json, named, new Set(), undefined, file) as Json;
  const undocumented: string[] = [];
  missingDocs(schema, "", undocumented);
  if (undocumented.length > 0) {
    throw new SchemaFileError(file, `fields without a "doc": ${undocumented.join(", ")}`);
  }
  let type: avsc.Type;
  try {
    type = avsc.Type.forSchema(schema as avsc.Schema, avroOptions());
  } catch (e) {
    throw new SchemaFileError(file, `is not a valid Avro schema: ${(e as Error).message}`, {
      cause: e,
    });
  }
  const m = /(?:^|\/)v(\d+)\.avsc$/.exec(file);
  return {
    family,
    version: m ? Number(m[1]) : 0,
    file,
    fullName: fullNameOf(schema, undefined),
    schema,
    text: JSON.stringify(schema),
    type,
  };
}

/**
 * Loads `schemas/` (or `dir`): `common/` first, then every family folder
 * except `examples/`. Versions must be `v1.avsc`, `v2.avsc`, ... without gaps.
 *
 * @example
 * ```ts
 * import { loadCatalog } from "./catalog.ts";
 * const order = (await loadCatalog()).family("order");
 * console.log(order.latest.version, order.latest.fullName); // 2 shopstream.order.OrderEvent
 * ```
 */
export async function loadCatalog(dir: string = SCHEMAS_DIR): Promise<Catalog> {
  const named = new Map<string, Json>();
  const commonDir = join(dir, "common");
  for await (const entry of Deno.readDir(commonDir)) {
    if (!entry.isFile || !entry.name.endsWith(".avsc")) continue;
    const file = join(commonDir, entry.name);
    const json = await readJson(file);
    named.set(fullNameOf(json, undefined), json);
  }
  // Shared types may use each other: inline those references once, in the library itself.
  for (const [name, json] of named) {
    named.set(name, inline(structuredClone(json), named, new Set(), undefined, name) as Json);
  }
  const families: SchemaFamily[] = [];
  const folders: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isDirectory && entry.name !== "common" && entry.name !== "examples") {
      folders.push(entry.name);
    }
  }
  for (const name of folders.sort()) {
    const files: string[] = [];
    for await (const entry of Deno.readDir(join(dir, name))) {
      if (entry.isFile && entry.name.endsWith(".avsc")) files.push(entry.name);
    }
    const versions = await Promise.all(
      files.map((f) => loadSchemaFile(join(dir, name, f), named, name)),
    );
    versions.sort((a, b) => a.version - b.version);
    versions.forEach((v, i) => {
      if (v.version !== i + 1) {
        throw new SchemaFileError(
          v.file,
          `expected v${i + 1}.avsc here: name versions v1, v2, ...`,
        );
      }
    });
    if (versions.length > 0) families.push({ name, versions, latest: versions.at(-1)! });
  }
  return {
    dir,
    named,
    families,
    family(name: string): SchemaFamily {
      const f = families.find((x) => x.name === name);
      if (!f) {
        throw new Error(
          `no schema family "${name}" in ${dir}; there are: ${
            families.map((x) => x.name).join(", ")
          }`,
        );
      }
      return f;
    },
  };
}
