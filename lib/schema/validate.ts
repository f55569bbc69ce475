/**
 * Validation of a value against an avsc type that reports every bad field by
 * path (`items[2].qty: expected int, got "3"`), not just "invalid". Producers
 * call {@linkcode assertValid} before anything is sent.
 *
 * @example
 * ```ts
 * import avsc from "avsc";
 * import { validate } from "./validate.ts";
 * const t = avsc.Type.forSchema({ type: "record", name: "O", fields: [
 *   { name: "items", type: { type: "array", items: { type: "record", name: "I",
 *     fields: [{ name: "qty", type: "int" }] } } },
 * ] });
 * console.log(validate(t, { items: [{ qty: 1 }, { qty: 2 }, { qty: "3" }] }).map(String));
 * // [ 'items[2].qty: expected int, got "3"' ]
 * ```
 *
 * @module
 */
import type avsc from "avsc";

/**
 * Any avsc type, typed loosely: avsc's typings do not cover every kind.
 *
 * @internal
 */
// deno-lint-ignore no-explicit-any
type AnyType = any;

/** One bad field. */
export interface ValidationIssue {
  /** Where: `items[2].qty`; empty for the value itself. */
  readonly path: string;
  /** What was expected, e.g. `int`, `one of PLACED, PAID`, `a value (no default)`. */
  readonly expected: string;
  /** What was found, as short JSON-ish text. */
  readonly got: string;
  /** `path: expected X, got Y`. */
  toString(): string;
}

/**
 * Thrown by {@linkcode assertValid}: lists every issue, one per line.
 *
 * @example
 * ```ts
 * import { SchemaValidationError } from "./validate.ts";
 * const e = new SchemaValidationError("shop.Order", []);
 * console.log(e.name); // "SchemaValidationError"
 * ```
 */
export class SchemaValidationError extends Error {
  /** The schema's name and every bad field. */
  constructor(
    /** The schema's name. */
    readonly schema: string,
    /** Every bad field. */
    readonly issues: readonly ValidationIssue[],
  ) {
    super(
      `value does not match schema ${schema} (${issues.length} problem${
        issues.length === 1 ? "" : "s"
      }); fix these fields before sending:\n${issues.map((i) => `  ${i}`).join("\n")}`,
    );
    this.name = "SchemaValidationError";
  }
}

function show(value: unknown): string {
  if (value === undefined) return "nothing";
  if (typeof value === "bigint") return `${value}n`;
  if (value instanceof Date) return `Date(${value.toISOString?.() ?? "invalid"})`;
  if (typeof value === "object" && value !== null && value.constructor?.name === "Decimal") {
    return `Decimal(${value})`;
  }
  if (value instanceof Uint8Array) return `bytes[${value.length}]`;
  try {
    const text = JSON.stringify(value);
    return text.length > 60 ? `${text.slice(0, 57)}...` : text;
  } catch {
    return String(value);
  }
}

/**
 * A short human name for a type: `int`, `timestamp-millis`, `shop.Order`,
 * `null | string`, `array<int>`.
 *
 * @example
 * ```ts
 * import avsc from "avsc";
 * import { typeLabel } from "./validate.ts";
 * console.log(typeLabel(avsc.Type.forSchema(["null", "string"]))); // "null | string"
 * ```
 */
export function typeLabel(type: AnyType): string {
  const name: string = type.typeName;
  if (name.startsWith("logical:")) return name.slice("logical:".length);
  if (name.startsWith("union")) return type.types.map(typeLabel).join(" | ");
  if (name === "array") return `array<${typeLabel(type.itemsType)}>`;
  if (name === "map") return `map<${typeLabel(type.valuesType)}>`;
  if (type.name) return type.name;
  return name;
}

function issue(path: string, expected: string, got: unknown): ValidationIssue {
  const gotText = show(got);
  return {
    path,
    expected,
    got: gotText,
    toString: () => `${path || "(value)"}: expected ${expected}, got ${gotText}`,
  };
}

const join = (path: string, field: string) => (path ? `${path}.${field}` : field);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date) &&
    !(v instanceof Uint8Array);
}

function walk(type: AnyType, value: unknown, path: string, out: ValidationIssue[]): void {
  const name: string = type.typeName;
  if (name.startsWith("logical:")) {
    let ok = false;
    try {
      ok = type._toValue(value) !== undefined;
    } catch {
      ok = false;
    }
    if (!ok) out.push(issue(path, typeLabel(type), value));
    return;
  }
  if (name.startsWith("union")) {
    if (!type.isValid(value)) out.push(issue(path, typeLabel(type), value));
    return;
  }
  switch (name) {
    case "record":
    case "error": {
      if (!isPlainObject(value)) {
        out.push(issue(path, `record ${type.name}`, value));
        return;
      }
      const known = new Set<string>();
      for (const field of type.fields) {
        known.add(field.name);
        const v = value[field.name];
        const at = join(path, field.name);
        if (v === undefined) {
          if (field.defaultValue() === undefined) {
            out.push(issue(at, `${typeLabel(field.type)} (the field has no default)`, v));
          }
        } else walk(field.type, v, at, out);
      }
      for (const key of Object.keys(value)) {
        if (!known.has(key)) out.push(issue(join(path, key), "no such field", value[key]));
      }
      return;
    }
    case "array":
      if (!Array.isArray(value)) {
        out.push(issue(path, typeLabel(type), value));
        return;
      }
      value.forEach((v, i) => walk(type.itemsType, v, `${path}[${i}]`, out));
      return;
    case "map":
      if (!isPlainObject(value)) {
        out.push(issue(path, typeLabel(type), value));
        return;
      }
      for (const [k, v] of Object.entries(value)) {
        walk(type.valuesType, v, `${path}[${JSON.stringify(k)}]`, out);
      }
      return;
    case "enum":
      if (!type.isValid(value)) {
        out.push(issue(path, `one of ${type.symbols.join(", ")}`, value));
      }
      return;
    default:
      if (!type.isValid(value)) out.push(issue(path, typeLabel(type), value));
  }
}

/**
 * Every field of `value` that `type` rejects, by path; empty when valid.
 * Unknown fields are reported too (they would be silently dropped on encode).
 *
 * @example
 * ```ts
 * import avsc from "avsc";
 * import { validate } from "./validate.ts";
 * const t = avsc.Type.forSchema({ type: "record", name: "P", fields: [{ name: "id", type: "long" }] });
 * console.log(validate(t, { id: 1 }).length, String(validate(t, {})[0]));
 * // 0 "id: expected long (the field has no default), got nothing"
 * ```
 */
export function validate(type: avsc.Type, value: unknown): ValidationIssue[] {
  // avsc's compiled check is an order of magnitude faster than the walk; the
  // walk only runs to name the fields of a value that fails it.
  if (type.isValid(value, { noUndeclaredFields: true })) return [];
  const out: ValidationIssue[] = [];
  walk(type, value, "", out);
  return out;
}

/**
 * Throws {@linkcode SchemaValidationError} naming every bad field unless
 * `value` matches `type`.
 *
 * @example
 * ```ts
 * import avsc from "avsc";
 * import { assertValid } from "./validate.ts";
 * const t = avsc.Type.forSchema({ type: "record", name: "P", fields: [{ name: "id", type: "long" }] });
 * assertValid(t, { id: 7 }); // fine
 * try { assertValid(t, { id: "7" }); } catch (e) { console.log((e as Error).message); }
 * ```
 */
export function assertValid(type: avsc.Type, value: unknown): void {
  const issues = validate(type, value);
  if (issues.length > 0) {
    throw new SchemaValidationError((type as AnyType).name ?? typeLabel(type), issues);
  }
}
