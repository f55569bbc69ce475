/**
 * What each REST call of the registry does, independent of HTTP: reads answer
 * from the in-memory state, mutations run under the store's write lock after
 * a sync, validate, write records in Confluent's format and return once the
 * reader has applied them. Every failure is a {@linkcode RegistryError}.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { SchemaStore } from "./store.ts";
 * import { RegistryService } from "./service.ts";
 * const store = await SchemaStore.open({ config: loadConfig() });
 * const registry = new RegistryService(store);
 * const { id } = await registry.register("greeting-value", { schema: '"string"' });
 * console.log(id, registry.getVersion("greeting-value", "latest"));
 * await store.close();
 * ```
 *
 * @module
 */
import { parseAvroSchema, type ParsedAvroSchema } from "../schema/avro.ts";
import {
  checkCompatibility,
  type CompatibilityLevel,
  DEFAULT_COMPATIBILITY,
  parseCompatibilityLevel,
  type PreviousSchema,
} from "../schema/compatibility.ts";
import { RegistryError } from "../schema/registry_errors.ts";
import {
  type ConfigValue,
  encodeConfigValue,
  encodeDeleteSubjectValue,
  encodeKey,
  encodeSchemaValue,
  type SchemaValue,
} from "./records.ts";
import type { SchemaStore } from "./store.ts";

/** `GET /subjects/{s}/versions/{v}` and `POST /subjects/{s}`: schemaType only when not AVRO. */
export interface SchemaResponse {
  /** The subject. */
  subject: string;
  /** Version number within the subject. */
  version: number;
  /** Global schema id. */
  id: number;
  /** Absent for AVRO. */
  schemaType?: string;
  /** Schema references, when there are any. */
  references?: unknown[];
  /** The schema text. */
  schema: string;
}

/** `GET /schemas/ids/{id}`. */
export interface SchemaByIdResponse {
  /** Absent for AVRO. */
  schemaType?: string;
  /** Schema references, when there are any. */
  references?: unknown[];
  /** The schema text. */
  schema: string;
}

/** `POST /compatibility/...`. */
export interface CompatibilityResponse {
  /** Whether the schema is compatible. */
  is_compatible: boolean;
  /** Why not, when `verbose=true` was asked. */
  messages?: string[];
}

/** A registration or lookup request body. */
export interface SchemaRequest {
  /** The schema text. */
  schema?: unknown;
  /** `AVRO` when absent. */
  schemaType?: unknown;
  /** Schema references. */
  references?: unknown;
  /** Other fields, e.g. metadata. */
  [field: string]: unknown;
}

const LATEST = -1;

/**
 * Parse a version path segment: `N` (1..2^31-1), `latest` or `-1` (both -1).
 * Anything else throws 422/42202.
 *
 * @example
 * ```ts
 * import { parseVersion } from "./service.ts";
 * console.log(parseVersion("3"), parseVersion("latest"), parseVersion("-1")); // 3 -1 -1
 * ```
 */
export function parseVersion(text: string): number {
  const t = text.trim();
  if (t.toLowerCase() === "latest") return LATEST;
  if (!/^[+-]?\d+$/.test(t)) throw RegistryError.invalidVersion(text);
  const n = Number(t);
  if (n === LATEST || (n >= 1 && n <= 2 ** 31 - 1)) return n;
  throw RegistryError.invalidVersion(text);
}

function schemaResponse(v: SchemaValue): SchemaResponse {
  const out: Partial<SchemaResponse> = { subject: v.subject, version: v.version, id: v.id };
  if (v.schemaType && v.schemaType.toUpperCase() !== "AVRO") out.schemaType = v.schemaType;
  if (v.references && v.references.length > 0) out.references = v.references;
  out.schema = v.schema;
  return out as SchemaResponse;
}

function previous(versions: SchemaValue[]): PreviousSchema[] {
  return versions.map((v) => ({ version: v.version, schema: v.schema, schemaType: v.schemaType }));
}

function parseRequest(body: SchemaRequest): ParsedAvroSchema {
  const type = body.schemaType ?? "AVRO";
  if (typeof type !== "string" || type.toUpperCase() !== "AVRO") {
    throw RegistryError.invalidSchema(
      `Invalid schema type ${String(type)}: this registry stores AVRO schemas only`,
    );
  }
  if (Array.isArray(body.references) && body.references.length > 0) {
    throw RegistryError.invalidSchema(
      "Invalid schema: schema references are not supported by this registry",
    );
  }
  return parseAvroSchema(body.schema);
}

function configBody(v: ConfigValue | undefined): Record<string, unknown> {
  const { subject: _s, offset: _o, ts: _t, ...rest } = v ?? {};
  return rest;
}

/**
 * The registry's operations. Construct over an open {@linkcode SchemaStore}.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { SchemaStore } from "./store.ts";
 * import { RegistryService } from "./service.ts";
 * const registry = new RegistryService(await SchemaStore.open({ config: loadConfig() }));
 * console.log(registry.listSubjects(false), registry.getConfig(null, false));
 * ```
 */
export class RegistryService {
  /** The operations over `store`. */
  constructor(readonly store: SchemaStore) {}

  get #state() {
    return this.store.state;
  }

  /** The level that applies to `subject`: its own, else the global one, else BACKWARD. */
  compatibilityOf(subject: string | null): CompatibilityLevel {
    const own = subject === null
      ? undefined
      : parseCompatibilityLevel(this.#state.config(subject)?.compatibilityLevel);
    return own ?? parseCompatibilityLevel(this.#state.config(null)?.compatibilityLevel) ??
      DEFAULT_COMPATIBILITY;
  }

  #modeOf(subject: string | null): string {
    return (subject !== null ? this.#state.mode(subject) : undefined) ?? this.#state.mode(null) ??
      "READWRITE";
  }

  #assertWritable(subject: string | null): void {
    const mode = this.#modeOf(subject);
    if (mode === "READONLY" || mode === "READONLY_OVERRIDE") {
      throw RegistryError.operationNotPermitted(
        `Subject ${subject ?? ""} in context . is in read-only mode`,
      );
    }
  }

  #mutate<T>(fn: () => Promise<T>): Promise<T> {
    return this.store.exclusive(async () => {
      await this.store.sync();
      return await fn();
    });
  }

  // ---- reads -------------------------------------------------------------

  /** `GET /subjects[?deleted=true]`. */
  listSubjects(deleted: boolean): string[] {
    return this.#state.subjects(deleted);
  }

  /** `GET /subjects/{s}/versions[?deleted=true]`. */
  listVersions(subject: string, deleted: boolean): number[] {
    const versions = this.#state.versions(subject, deleted);
    if (versions.length === 0) throw RegistryError.subjectNotFound(subject);
    return versions.map((v) => v.version);
  }

  #resolve(subject: string, versionText: string, deleted: boolean): SchemaValue {
    const version = parseVersion(versionText);
    const found = version === LATEST
      ? this.#state.latest(subject, deleted)
      : this.#state.version(subject, version, deleted);
    if (found) return found;
    if (!this.#state.hasSubject(subject, deleted)) throw RegistryError.subjectNotFound(subject);
    throw RegistryError.versionNotFound(version);
  }

  /** `GET /subjects/{s}/versions/{v}[?deleted=true]`. */
  getVersion(subject: string, versionText: string, deleted = false): SchemaResponse {
    return schemaResponse(this.#resolve(subject, versionText, deleted));
  }

  /** `GET /subjects/{s}/versions/{v}/referencedby`: always `[]` (no references here). */
  referencedBy(subject: string, versionText: string): number[] {
    this.#resolve(subject, versionText, true);
    return [];
  }

  #id(idText: string): number {
    const id = /^\d+$/.test(idText.trim()) ? Number(idText) : NaN;
    if (!Number.isSafeInteger(id)) throw RegistryError.schemaNotFound(idText);
    return id;
  }

  /** `GET /schemas/ids/{id}`. */
  getSchemaById(idText: string): SchemaByIdResponse {
    const v = this.#state.byId(this.#id(idText));
    if (!v) throw RegistryError.schemaNotFound(idText);
    const { subject: _s, version: _v, id: _i, ...rest } = schemaResponse(v);
    return rest;
  }

  /** `GET /schemas/ids/{id}/versions[?deleted=true]`. */
  versionsOfId(idText: string, deleted: boolean): { subject: string; version: number }[] {
    const id = this.#id(idText);
    if (!this.#state.byId(id)) throw RegistryError.schemaNotFound();
    return this.#state.usesOf(id, deleted).map((v) => ({ subject: v.subject, version: v.version }));
  }

  /** `GET /schemas/ids/{id}/subjects[?deleted=true]`. */
  subjectsOfId(idText: string, deleted: boolean): string[] {
    return [...new Set(this.versionsOfId(idText, deleted).map((v) => v.subject))];
  }

  /** `POST /subjects/{s}[?deleted=true]`: which version of the subject is this schema. */
  lookup(subject: string, body: SchemaRequest, deleted = false): SchemaResponse {
    const parsed = parseRequest(body);
    const found = this.#state.findInSubject(subject, parsed.canonical, deleted);
    if (found) return schemaResponse(found);
    if (!this.#state.hasSubject(subject, deleted)) throw RegistryError.subjectNotFound(subject);
    throw RegistryError.schemaNotFound();
  }

  /** `GET /config` (subject null) or `GET /config/{s}[?defaultToGlobal=true]`. */
  getConfig(subject: string | null, defaultToGlobal: boolean): Record<string, unknown> {
    const global = () => ({
      ...configBody(this.#state.config(null)),
      compatibilityLevel: this.compatibilityOf(null),
    });
    if (subject === null) return global();
    const own = this.#state.config(subject);
    if (own) {
      const body = configBody(own);
      return defaultToGlobal && body.compatibilityLevel === undefined
        ? { ...body, compatibilityLevel: this.compatibilityOf(null) }
        : body;
    }
    if (defaultToGlobal) return global();
    throw RegistryError.subjectCompatibilityNotConfigured(subject);
  }

  /** `GET /mode` (subject null) or `GET /mode/{s}[?defaultToGlobal=true]`. */
  getMode(subject: string | null, defaultToGlobal: boolean): { mode: string } {
    if (subject === null) return { mode: this.#modeOf(null) };
    const own = this.#state.mode(subject);
    if (own) return { mode: own };
    if (defaultToGlobal) return { mode: this.#modeOf(null) };
    throw RegistryError.subjectModeNotConfigured(subject);
  }

  /**
   * `POST /compatibility/subjects/{s}/versions[/{v}][?verbose=true]`. Without a
   * version: against the live versions the subject's level names; with one:
   * against that version only (`latest` of a missing subject is compatible,
   * a missing numbered version is 40402, as in Confluent).
   */
  testCompatibility(
    subject: string,
    versionText: string | undefined,
    body: SchemaRequest,
    verbose: boolean,
  ): CompatibilityResponse {
    let against: SchemaValue[];
    if (versionText === undefined) {
      against = this.#state.versions(subject);
    } else {
      const version = parseVersion(versionText);
      const found = version === LATEST
        ? this.#state.latest(subject)
        : this.#state.version(subject, version);
      if (!found && version !== LATEST) throw RegistryError.versionNotFound(version);
      against = found ? [found] : [];
    }
    let parsed: ParsedAvroSchema;
    try {
      parsed = parseRequest(body);
    } catch (e) {
      if (verbose && e instanceof RegistryError) {
        return { is_compatible: false, messages: [e.message] };
      }
      throw e;
    }
    const result = checkCompatibility(this.compatibilityOf(subject), parsed, previous(against));
    return verbose
      ? { is_compatible: result.compatible, messages: result.messages }
      : { is_compatible: result.compatible };
  }

  // ---- writes ------------------------------------------------------------

  /**
   * `POST /subjects/{s}/versions`: the id of the schema in the subject. An
   * identical (canonical) schema already live in the subject returns its id;
   * one known elsewhere reuses its id in a new version; otherwise a new id.
   * New versions must pass the subject's compatibility level (409 if not).
   */
  register(subject: string, body: SchemaRequest): Promise<{ id: number }> {
    const parsed = parseRequest(body);
    return this.#mutate(async () => {
      const state = this.#state;
      const existing = state.findInSubject(subject, parsed.canonical);
      if (existing) return { id: existing.id };
      this.#assertWritable(subject);
      const level = this.compatibilityOf(subject);
      const result = checkCompatibility(level, parsed, previous(state.versions(subject)));
      if (!result.compatible) throw RegistryError.incompatibleSchema(subject, result.messages);
      const id = state.idOf(parsed.canonical) ?? state.maxId + 1;
      const version = state.nextVersion(subject);
      // As Confluent does: a soft-deleted earlier version with the same id is tombstoned.
      for (const old of state.versions(subject, true)) {
        if (old.deleted && old.id === id) {
          await this.store.write(
            encodeKey({ keytype: "SCHEMA", subject, version: old.version }),
            null,
          );
        }
      }
      await this.store.write(
        encodeKey({ keytype: "SCHEMA", subject, version }),
        encodeSchemaValue({ subject, version, id, schema: parsed.canonical, deleted: false }),
      );
      const stored = state.version(subject, version);
      if (!stored || stored.id !== id) {
        throw RegistryError.storeError(
          `Registering ${subject} v${version} with id ${id} did not take effect: another ` +
            `registry instance wrote to ${this.store.topic} at the same time; retry`,
        );
      }
      return { id };
    });
  }

  /** `DELETE /subjects/{s}[?permanent=true]`: the versions deleted. */
  deleteSubject(subject: string, permanent: boolean): Promise<number[]> {
    return this.#mutate(async () => {
      const state = this.#state;
      if (!state.hasSubject(subject, true)) throw RegistryError.subjectNotFound(subject);
      if (!permanent && !state.hasSubject(subject, false)) {
        throw RegistryError.subjectSoftDeleted(subject);
      }
      this.#assertWritable(subject);
      if (!permanent) {
        const live = state.versions(subject).map((v) => v.version);
        await this.store.write(
          encodeKey({ keytype: "DELETE_SUBJECT", subject }),
          encodeDeleteSubjectValue({ subject, version: live[live.length - 1] }),
        );
        return live;
      }
      const all = state.versions(subject, true);
      if (all.some((v) => !v.deleted)) throw RegistryError.subjectNotSoftDeleted(subject);
      for (const v of [...all].reverse()) {
        await this.store.write(
          encodeKey({ keytype: "SCHEMA", subject, version: v.version }),
          null,
        );
      }
      await this.#dropSubjectSettings(subject);
      return all.map((v) => v.version);
    });
  }

  /** `DELETE /subjects/{s}/versions/{v}[?permanent=true]`: the version deleted. */
  deleteVersion(subject: string, versionText: string, permanent: boolean): Promise<number> {
    const version = parseVersion(versionText);
    return this.#mutate(async () => {
      const state = this.#state;
      if (version !== LATEST && !permanent && state.version(subject, version, true)?.deleted) {
        throw RegistryError.versionSoftDeleted(subject, version);
      }
      const target = version === LATEST
        ? state.latest(subject)
        : state.version(subject, version, true);
      if (!target) {
        if (!state.hasSubject(subject, true)) throw RegistryError.subjectNotFound(subject);
        throw RegistryError.versionNotFound(version);
      }
      this.#assertWritable(subject);
      const key = encodeKey({ keytype: "SCHEMA", subject, version: target.version });
      if (!permanent) {
        await this.store.write(key, encodeSchemaValue({ ...target, deleted: true }));
        return target.version;
      }
      if (!target.deleted) throw RegistryError.versionNotSoftDeleted(subject, target.version);
      await this.store.write(key, null);
      if (!state.hasSubject(subject, true)) await this.#dropSubjectSettings(subject);
      return target.version;
    });
  }

  async #dropSubjectSettings(subject: string): Promise<void> {
    if (this.#state.mode(subject) !== undefined) {
      await this.store.write(encodeKey({ keytype: "MODE", subject }), null);
    }
    if (this.#state.config(subject) !== undefined) {
      await this.store.write(encodeKey({ keytype: "CONFIG", subject }), null);
    }
  }

  /** `PUT /config` (subject null) or `PUT /config/{s}` with `{"compatibility": "FULL"}`. */
  setConfig(
    subject: string | null,
    body: Record<string, unknown>,
  ): Promise<{ compatibility: string }> {
    const level = parseCompatibilityLevel(body?.compatibility);
    if (!level) throw RegistryError.invalidCompatibilityLevel();
    return this.#mutate(async () => {
      this.#assertWritable(subject);
      const value: ConfigValue = {
        ...configBody(this.#state.config(subject)),
        subject: subject ?? undefined,
        compatibilityLevel: level,
      };
      await this.store.write(encodeKey({ keytype: "CONFIG", subject }), encodeConfigValue(value));
      return { compatibility: level };
    });
  }

  /** `DELETE /config` (back to BACKWARD) or `DELETE /config/{s}` (back to global): the old config. */
  deleteConfig(subject: string | null): Promise<Record<string, unknown>> {
    return this.#mutate(async () => {
      const old = this.#state.config(subject);
      if (subject !== null && !old) throw RegistryError.subjectNotFound(subject);
      const answer = subject === null ? this.getConfig(null, false) : configBody(old);
      this.#assertWritable(subject);
      if (old) await this.store.write(encodeKey({ keytype: "CONFIG", subject }), null);
      return answer;
    });
  }
}
