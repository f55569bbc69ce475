/**
 * The records of the `_schemas` topic in Confluent Schema Registry's format,
 * so either server can read what the other wrote.
 *
 * Keys are JSON written by Jackson with `NON_EMPTY` inclusion and a fixed
 * property order; compaction compares key bytes, so {@linkcode encodeKey}
 * reproduces them exactly:
 *
 * | keytype          | key                                                       | value                                             |
 * | ---------------- | --------------------------------------------------------- | ------------------------------------------------- |
 * | `SCHEMA`         | `{"keytype":"SCHEMA","subject":"s","version":1,"magic":1}` | `{"subject":"s","version":1,"id":1,"schema":"...","deleted":false}`; null = hard delete |
 * | `CONFIG`         | `{"keytype":"CONFIG","subject":"s","magic":0}` (global: no subject) | `{"subject":"s","compatibilityLevel":"FULL"}`; null = delete |
 * | `MODE`           | `{"keytype":"MODE","subject":"s","magic":0}`              | `{"subject":"s","mode":"READONLY"}`               |
 * | `DELETE_SUBJECT` | `{"keytype":"DELETE_SUBJECT","subject":"s","magic":0}`    | `{"subject":"s","version":3}`: versions 1..3 soft-deleted |
 * | `CLEAR_SUBJECT`  | `{"keytype":"CLEAR_SUBJECT","subject":"s","magic":0}`     | `{"subject":"s"}`: forget soft-deleted versions   |
 * | `NOOP`           | `{"keytype":"NOOP","magic":0}`                            | null (written to learn the log end)               |
 *
 * `CONTEXT` and `ASSOC` records (Confluent contexts and associations) are read
 * and ignored. Avro schemas carry no `schemaType` (as Confluent 5.5-7.x wrote
 * them; newer Confluent versions read a missing type as AVRO).
 *
 * @example
 * ```ts
 * import { decodeKey, encodeKey, encodeSchemaValue } from "./records.ts";
 * const key = encodeKey({ keytype: "SCHEMA", subject: "orders-value", version: 1 });
 * console.log(key); // {"keytype":"SCHEMA","subject":"orders-value","version":1,"magic":1}
 * console.log(decodeKey(key)?.keytype); // SCHEMA
 * console.log(encodeSchemaValue({ subject: "orders-value", version: 1, id: 1, schema: '"string"', deleted: false }));
 * ```
 *
 * @module
 */

/** A decoded `_schemas` key. `OTHER` covers CONTEXT, ASSOC and key types this registry does not know. */
export type RegistryKey =
  | { keytype: "SCHEMA"; subject: string; version: number; magic?: number }
  | { keytype: "CONFIG"; subject: string | null; magic?: number }
  | { keytype: "MODE"; subject: string | null; magic?: number }
  | { keytype: "DELETE_SUBJECT"; subject: string; magic?: number }
  | { keytype: "CLEAR_SUBJECT"; subject: string | null; magic?: number }
  | { keytype: "NOOP"; magic?: number }
  | { keytype: "OTHER"; name: string; raw: Record<string, unknown> };

/** The value of a `SCHEMA` record. Fields Confluent may add (metadata, ruleSet, md5) are kept. */
export interface SchemaValue {
  /** The subject. */
  subject: string;
  /** Version number within the subject. */
  version: number;
  /** Global schema id. */
  id: number;
  /** The schema text. */
  schema: string;
  /** Soft-deleted. */
  deleted: boolean;
  /** Absent for AVRO. */
  schemaType?: string;
  /** Schema references, kept as sent. */
  references?: unknown[];
  /** Kept as Confluent wrote it. */
  md5?: string;
  /** Kept as Confluent wrote it. */
  metadata?: unknown;
  /** Kept as Confluent wrote it. */
  ruleSet?: unknown;
}

/** The value of a `CONFIG` record; other Confluent config fields are kept as they are. */
export interface ConfigValue {
  /** The subject; null or absent for the global config. */
  subject?: string | null;
  /** The compatibility level, e.g. `BACKWARD`. */
  compatibilityLevel?: string;
  /** Other Confluent config fields, kept as they are. */
  [field: string]: unknown;
}

/** The value of a `MODE` record. */
export interface ModeValue {
  /** The subject; null or absent for the global mode. */
  subject?: string | null;
  /** The mode, e.g. `READWRITE`. */
  mode?: string;
}

/** The value of a `DELETE_SUBJECT` record: versions up to `version` are soft-deleted. */
export interface DeleteSubjectValue {
  /** The subject. */
  subject: string;
  /** The last soft-deleted version. */
  version: number;
}

/** The value of a `CLEAR_SUBJECT` record. */
export interface ClearSubjectValue {
  /** The subject whose soft-deleted versions are cleared. */
  subject?: string | null;
}

const MAGIC: Record<string, number> = { SCHEMA: 1 };

/** Jackson's `NON_EMPTY`: drop null, undefined, "" and empty arrays/objects. */
function nonEmpty(v: unknown): boolean {
  if (v === null || v === undefined || v === "") return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === "object") return Object.keys(v as object).length > 0;
  return true;
}

function ordered(entries: [string, unknown][]): string {
  const parts = entries.filter(([, v]) => nonEmpty(v)).map(([k, v]) =>
    `${JSON.stringify(k)}:${JSON.stringify(v)}`
  );
  return `{${parts.join(",")}}`;
}

/** A key this registry writes: every {@linkcode RegistryKey} but `OTHER`. */
export type EncodableKey = Exclude<RegistryKey, { keytype: "OTHER" }>;

/**
 * The exact key bytes (as a string) Confluent writes for `key`.
 *
 * @example
 * ```ts
 * import { encodeKey } from "./records.ts";
 * console.log(encodeKey({ keytype: "CONFIG", subject: null })); // {"keytype":"CONFIG","magic":0}
 * console.log(encodeKey({ keytype: "NOOP" })); // {"keytype":"NOOP","magic":0}
 * ```
 */
export function encodeKey(key: EncodableKey): string {
  const magic = MAGIC[key.keytype] ?? 0;
  switch (key.keytype) {
    case "SCHEMA":
      return ordered([
        ["keytype", key.keytype],
        ["subject", key.subject],
        ["version", key.version],
        ["magic", magic],
      ]);
    case "NOOP":
      return ordered([["keytype", key.keytype], ["magic", magic]]);
    default:
      return ordered([["keytype", key.keytype], ["subject", key.subject], ["magic", magic]]);
  }
}

const text = new TextDecoder();

function parseJson(data: Uint8Array | string | null | undefined): unknown {
  if (data === null || data === undefined) return null;
  const s = typeof data === "string" ? data : text.decode(data);
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const optSubject = (v: unknown) => (typeof v === "string" && v !== "" ? v : null);
const isVersion = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0;

/**
 * Decode a key; undefined when it is not a registry key at all (not JSON, no
 * `keytype`, or missing fields), so the reader can skip it instead of failing.
 *
 * @example
 * ```ts
 * import { decodeKey } from "./records.ts";
 * console.log(decodeKey('{"keytype":"CONFIG","subject":null,"magic":0}'));
 * // { keytype: "CONFIG", subject: null, magic: 0 }
 * console.log(decodeKey("junk")); // undefined
 * ```
 */
export function decodeKey(data: Uint8Array | string | null | undefined): RegistryKey | undefined {
  const raw = parseJson(data);
  if (!isRecord(raw) || typeof raw.keytype !== "string") return undefined;
  const magic = typeof raw.magic === "number" ? raw.magic : undefined;
  switch (raw.keytype) {
    case "SCHEMA":
      if (typeof raw.subject !== "string" || !isVersion(raw.version)) return undefined;
      return { keytype: "SCHEMA", subject: raw.subject, version: raw.version, magic };
    case "CONFIG":
    case "MODE":
    case "CLEAR_SUBJECT":
      return { keytype: raw.keytype, subject: optSubject(raw.subject), magic };
    case "DELETE_SUBJECT":
      if (typeof raw.subject !== "string") return undefined;
      return { keytype: "DELETE_SUBJECT", subject: raw.subject, magic };
    case "NOOP":
      return { keytype: "NOOP", magic };
    default:
      return { keytype: "OTHER", name: raw.keytype, raw };
  }
}

/**
 * A `SCHEMA` value in Confluent's field order (`NON_EMPTY`: no `schemaType`
 * for AVRO, no empty `references`).
 *
 * @example
 * ```ts
 * import { encodeSchemaValue } from "./records.ts";
 * console.log(encodeSchemaValue({ subject: "s", version: 2, id: 7, schema: '"int"', deleted: true }));
 * // {"subject":"s","version":2,"id":7,"schema":"\"int\"","deleted":true}
 * ```
 */
export function encodeSchemaValue(v: SchemaValue): string {
  const type = v.schemaType && v.schemaType.toUpperCase() !== "AVRO" ? v.schemaType : undefined;
  return ordered([
    ["subject", v.subject],
    ["version", v.version],
    ["id", v.id],
    ["md5", v.md5],
    ["schemaType", type],
    ["references", v.references],
    ["metadata", v.metadata],
    ["ruleSet", v.ruleSet],
    ["schema", v.schema],
    ["deleted", v.deleted === true],
  ]);
}

/**
 * Decode a `SCHEMA` value; undefined when a required field is missing or wrong.
 *
 * @example
 * ```ts
 * import { decodeSchemaValue } from "./records.ts";
 * const v = decodeSchemaValue('{"subject":"s","version":1,"id":1,"schema":"\\"int\\"","deleted":false}');
 * console.log(v?.id, v?.deleted); // 1 false
 * ```
 */
export function decodeSchemaValue(data: Uint8Array | string): SchemaValue | undefined {
  const raw = parseJson(data);
  if (!isRecord(raw)) return undefined;
  const { subject, version, id, schema } = raw;
  if (typeof subject !== "string" || !isVersion(version)) return undefined;
  if (!Number.isInteger(id) || (id as number) < 0 || typeof schema !== "string") return undefined;
  const value: SchemaValue = {
    subject,
    version,
    id: id as number,
    schema,
    deleted: raw.deleted === true,
  };
  if (typeof raw.schemaType === "string") value.schemaType = raw.schemaType;
  if (Array.isArray(raw.references)) value.references = raw.references;
  if (typeof raw.md5 === "string") value.md5 = raw.md5;
  if (raw.metadata != null) value.metadata = raw.metadata;
  if (raw.ruleSet != null) value.ruleSet = raw.ruleSet;
  return value;
}

const CONFIG_ORDER = [
  "subject",
  "alias",
  "aliasForDeks",
  "normalize",
  "validateFields",
  "validateNewSchemas",
  "validateRules",
  "compatibilityLevel",
  "compatibilityPolicy",
  "compatibilityGroup",
  "defaultMetadata",
  "overrideMetadata",
  "defaultRuleSet",
  "overrideRuleSet",
];

/**
 * A `CONFIG` value in Confluent's field order; unknown fields are kept at the end.
 *
 * @example
 * ```ts
 * import { encodeConfigValue } from "./records.ts";
 * console.log(encodeConfigValue({ compatibilityLevel: "FULL" })); // {"compatibilityLevel":"FULL"}
 * ```
 */
export function encodeConfigValue(v: ConfigValue): string {
  const known = CONFIG_ORDER.map((k): [string, unknown] => [k, v[k]]);
  const rest = Object.entries(v).filter(([k]) =>
    !CONFIG_ORDER.includes(k) && k !== "offset" && k !== "ts"
  );
  return ordered([...known, ...rest]);
}

/**
 * Decode a `CONFIG` value (any JSON object); undefined when it is not an object.
 *
 * @example
 * ```ts
 * import { decodeConfigValue } from "./records.ts";
 * console.log(decodeConfigValue('{"compatibilityLevel":"NONE"}')?.compatibilityLevel); // NONE
 * ```
 */
export function decodeConfigValue(data: Uint8Array | string): ConfigValue | undefined {
  const raw = parseJson(data);
  return isRecord(raw) ? raw as ConfigValue : undefined;
}

/**
 * A `MODE` value.
 *
 * @example
 * ```ts
 * import { encodeModeValue } from "./records.ts";
 * console.log(encodeModeValue({ mode: "READONLY" })); // {"mode":"READONLY"}
 * ```
 */
export function encodeModeValue(v: ModeValue): string {
  return ordered([["subject", v.subject], ["mode", v.mode]]);
}

/**
 * Decode a `MODE` value; undefined when it is not an object.
 *
 * @example
 * ```ts
 * import { decodeModeValue } from "./records.ts";
 * console.log(decodeModeValue('{"mode":"READWRITE"}')?.mode); // READWRITE
 * ```
 */
export function decodeModeValue(data: Uint8Array | string): ModeValue | undefined {
  const raw = parseJson(data);
  return isRecord(raw) ? raw as ModeValue : undefined;
}

/**
 * A `DELETE_SUBJECT` value.
 *
 * @example
 * ```ts
 * import { encodeDeleteSubjectValue } from "./records.ts";
 * console.log(encodeDeleteSubjectValue({ subject: "s", version: 3 })); // {"subject":"s","version":3}
 * ```
 */
export function encodeDeleteSubjectValue(v: DeleteSubjectValue): string {
  return ordered([["subject", v.subject], ["version", v.version]]);
}

/**
 * Decode a `DELETE_SUBJECT` value; undefined when the version is missing.
 *
 * @example
 * ```ts
 * import { decodeDeleteSubjectValue } from "./records.ts";
 * console.log(decodeDeleteSubjectValue('{"subject":"s","version":2}')); // { subject: "s", version: 2 }
 * ```
 */
export function decodeDeleteSubjectValue(
  data: Uint8Array | string,
): DeleteSubjectValue | undefined {
  const raw = parseJson(data);
  if (!isRecord(raw) || typeof raw.subject !== "string" || !isVersion(raw.version)) {
    return undefined;
  }
  return { subject: raw.subject, version: raw.version };
}

/**
 * Decode a `CLEAR_SUBJECT` value; undefined when it is not an object.
 *
 * @example
 * ```ts
 * import { decodeClearSubjectValue } from "./records.ts";
 * console.log(decodeClearSubjectValue('{"subject":"s"}')); // { subject: "s" }
 * ```
 */
export function decodeClearSubjectValue(data: Uint8Array | string): ClearSubjectValue | undefined {
  const raw = parseJson(data);
  if (!isRecord(raw)) return undefined;
  return { subject: optSubject(raw.subject) };
}
