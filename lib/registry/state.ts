/**
 * The registry's in-memory state, rebuilt by applying the `_schemas` records
 * in offset order, as Confluent's `KafkaStoreMessageHandler` does. Pure: no
 * Kafka here, so it can be tested by feeding records.
 *
 * @example
 * ```ts
 * import { RegistryState } from "./state.ts";
 * import { encodeKey, encodeSchemaValue } from "./records.ts";
 * const state = new RegistryState();
 * state.apply(
 *   encodeKey({ keytype: "SCHEMA", subject: "s", version: 1 }),
 *   encodeSchemaValue({ subject: "s", version: 1, id: 1, schema: '"int"', deleted: false }),
 *   0,
 * );
 * console.log(state.subjects(), state.maxId); // ["s"] 1
 * ```
 *
 * @module
 */
import {
  type ConfigValue,
  decodeClearSubjectValue,
  decodeConfigValue,
  decodeDeleteSubjectValue,
  decodeKey,
  decodeModeValue,
  decodeSchemaValue,
  type SchemaValue,
} from "./records.ts";

/** Called with a description when a record is skipped (malformed or conflicting). */
export type StateWarn = (message: string) => void;

const GLOBAL = "\u0000global";
const scope = (subject: string | null) => subject ?? GLOBAL;

/**
 * Subjects, versions, ids, configs and modes as the log says.
 *
 * @example
 * ```ts
 * import { RegistryState } from "./state.ts";
 * const state = new RegistryState((m) => console.warn(m));
 * state.apply('{"keytype":"CONFIG","magic":0}', '{"compatibilityLevel":"FULL"}', 0);
 * console.log(state.config(null)?.compatibilityLevel); // FULL
 * ```
 */
export class RegistryState {
  readonly #subjects = new Map<string, Map<number, SchemaValue>>();
  /** Highest version each subject ever had (never reused, even after deletes). */
  readonly #maxVersion = new Map<string, number>();
  readonly #configs = new Map<string, ConfigValue>();
  readonly #modes = new Map<string, string>();
  #maxId = 0;
  #offset = -1;

  /** An empty state; `warn` hears about records it skips. */
  constructor(private readonly warn: StateWarn = () => {}) {}

  /** Offset of the last record applied; -1 before the first. */
  get offset(): number {
    return this.#offset;
  }

  /** The highest schema id seen. */
  get maxId(): number {
    return this.#maxId;
  }

  /**
   * Apply one record. Records at or below {@linkcode offset} are ignored (a
   * consumer that restarts from the beginning re-delivers them). Never throws
   * on bad data: such records are skipped with a warning.
   */
  apply(
    key: Uint8Array | string | null,
    value: Uint8Array | string | null,
    offset: number,
  ): void {
    if (offset <= this.#offset) return;
    this.#offset = offset;
    const k = decodeKey(key);
    if (!k) {
      this.warn(`offset ${offset}: skipping a record whose key is not a registry key`);
      return;
    }
    switch (k.keytype) {
      case "SCHEMA": {
        this.#bumpVersion(k.subject, k.version);
        if (value === null) {
          this.#removeVersion(k.subject, k.version);
          return;
        }
        const v = decodeSchemaValue(value);
        if (!v) return this.warn(`offset ${offset}: skipping a malformed SCHEMA value`);
        const clash = this.#findById(v.id);
        if (clash && clash.schema !== v.schema) {
          return this.warn(
            `offset ${offset}: skipping ${k.subject} v${k.version}: id ${v.id} already names ` +
              `another schema (${clash.subject} v${clash.version})`,
          );
        }
        // The key is the truth for subject and version.
        v.subject = k.subject;
        v.version = k.version;
        this.#versions(k.subject, true).set(k.version, v);
        this.#maxId = Math.max(this.#maxId, v.id);
        return;
      }
      case "CONFIG": {
        if (value === null) return void this.#configs.delete(scope(k.subject));
        const v = decodeConfigValue(value);
        if (!v) return this.warn(`offset ${offset}: skipping a malformed CONFIG value`);
        this.#configs.set(scope(k.subject), v);
        return;
      }
      case "MODE": {
        if (value === null) return void this.#modes.delete(scope(k.subject));
        const v = decodeModeValue(value);
        if (!v || typeof v.mode !== "string") {
          return this.warn(`offset ${offset}: skipping a malformed MODE value`);
        }
        this.#modes.set(scope(k.subject), v.mode);
        return;
      }
      case "DELETE_SUBJECT": {
        if (value === null) return;
        const v = decodeDeleteSubjectValue(value);
        if (!v) return this.warn(`offset ${offset}: skipping a malformed DELETE_SUBJECT value`);
        this.#bumpVersion(v.subject, v.version);
        for (const [version, entry] of this.#versions(v.subject, false) ?? []) {
          if (version <= v.version) entry.deleted = true;
        }
        return;
      }
      case "CLEAR_SUBJECT": {
        if (value === null) return;
        const v = decodeClearSubjectValue(value);
        const target = v?.subject ?? k.subject;
        for (const [subject, versions] of [...this.#subjects]) {
          if (!clearMatches(target, subject)) continue;
          for (const [version, entry] of [...versions]) {
            if (entry.deleted) versions.delete(version);
          }
          if (versions.size === 0) this.#subjects.delete(subject);
        }
        return;
      }
      default:
        return; // NOOP, CONTEXT, ASSOC and unknown key types change nothing here.
    }
  }

  #versions(subject: string, create: true): Map<number, SchemaValue>;
  #versions(subject: string, create: false): Map<number, SchemaValue> | undefined;
  #versions(subject: string, create: boolean): Map<number, SchemaValue> | undefined {
    let versions = this.#subjects.get(subject);
    if (!versions && create) {
      versions = new Map();
      this.#subjects.set(subject, versions);
    }
    return versions;
  }

  #bumpVersion(subject: string, version: number): void {
    this.#maxVersion.set(subject, Math.max(this.#maxVersion.get(subject) ?? 0, version));
  }

  #removeVersion(subject: string, version: number): void {
    const versions = this.#subjects.get(subject);
    if (!versions) return;
    versions.delete(version);
    if (versions.size === 0) this.#subjects.delete(subject);
  }

  #findById(id: number): SchemaValue | undefined {
    for (const versions of this.#subjects.values()) {
      for (const entry of versions.values()) if (entry.id === id) return entry;
    }
    return undefined;
  }

  /** Subjects with at least one live version (or any version with `includeDeleted`), sorted. */
  subjects(includeDeleted = false): string[] {
    const out: string[] = [];
    for (const [subject, versions] of this.#subjects) {
      if ([...versions.values()].some((v) => includeDeleted || !v.deleted)) out.push(subject);
    }
    return out.sort();
  }

  /** Whether the subject has a live version (or any version with `includeDeleted`). */
  hasSubject(subject: string, includeDeleted = false): boolean {
    return this.versions(subject, includeDeleted).length > 0;
  }

  /** The subject's versions, oldest first. */
  versions(subject: string, includeDeleted = false): SchemaValue[] {
    const versions = this.#subjects.get(subject);
    if (!versions) return [];
    return [...versions.values()]
      .filter((v) => includeDeleted || !v.deleted)
      .sort((a, b) => a.version - b.version);
  }

  /** One version; soft-deleted ones only with `includeDeleted`. */
  version(subject: string, version: number, includeDeleted = false): SchemaValue | undefined {
    const v = this.#subjects.get(subject)?.get(version);
    return v && (includeDeleted || !v.deleted) ? v : undefined;
  }

  /** The highest live version (or highest of all with `includeDeleted`). */
  latest(subject: string, includeDeleted = false): SchemaValue | undefined {
    const all = this.versions(subject, includeDeleted);
    return all[all.length - 1];
  }

  /** The version a new schema in `subject` gets: never one used before. */
  nextVersion(subject: string): number {
    const present = this.versions(subject, true).map((v) => v.version);
    return Math.max(this.#maxVersion.get(subject) ?? 0, ...present) + 1;
  }

  /** The version of `subject` holding exactly this (canonical) schema. */
  findInSubject(
    subject: string,
    schema: string,
    includeDeleted = false,
  ): SchemaValue | undefined {
    return this.versions(subject, includeDeleted).reverse().find((v) => v.schema === schema);
  }

  /** The id any subject (live or soft-deleted) already uses for this schema. */
  idOf(schema: string): number | undefined {
    for (const versions of this.#subjects.values()) {
      for (const v of versions.values()) if (v.schema === schema) return v.id;
    }
    return undefined;
  }

  /** A record carrying schema `id` (any subject, deleted or not). */
  byId(id: number): SchemaValue | undefined {
    return this.#findById(id);
  }

  /** Every subject/version using schema `id`, sorted by subject then version. */
  usesOf(id: number, includeDeleted = false): SchemaValue[] {
    const out: SchemaValue[] = [];
    for (const versions of this.#subjects.values()) {
      for (const v of versions.values()) {
        if (v.id === id && (includeDeleted || !v.deleted)) out.push(v);
      }
    }
    return out.sort((a, b) =>
      a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : a.version - b.version
    );
  }

  /** The config record of a subject (`null`: the global one), if set. */
  config(subject: string | null): ConfigValue | undefined {
    return this.#configs.get(scope(subject));
  }

  /** The mode of a subject (`null`: the global one), if set. */
  mode(subject: string | null): string | undefined {
    return this.#modes.get(scope(subject));
  }
}

/** CLEAR_SUBJECT matches one subject, a whole context (`:.ctx:`), or everything (null). */
function clearMatches(target: string | null | undefined, subject: string): boolean {
  if (!target) return true;
  if (target === subject) return true;
  const context = /^:\.[^:]*:$/.exec(target);
  if (!context) return false;
  return target === ":.:" ? !subject.startsWith(":.") : subject.startsWith(target);
}
