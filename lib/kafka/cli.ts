/**
 * Small pure helpers shared by the console tasks (`deno task admin`,
 * `produce`, `consume`): `key=value` lists, acks names, line splitting and
 * record formatting in the spirit of Kafka's console tools.
 *
 * @example
 * ```ts
 * import { parseAcks, parsePairs } from "./cli.ts";
 * console.log(parsePairs(["retention.ms=60000"], "--config")); // { "retention.ms": "60000" }
 * console.log(parseAcks("all")); // -1
 * ```
 *
 * @module
 */
import type { IHeaders } from "./upstream.ts";
import type { Acks } from "./producer.ts";

import { UsageError } from "../util/cli.ts";

/**
 * `["a=1", "b=x=y"]` to `{ a: "1", b: "x=y" }`; `flag` names the option in errors.
 *
 * @example
 * ```ts
 * import { parsePairs } from "./cli.ts";
 * console.log(parsePairs(["source=cli"], "--header")); // { source: "cli" }
 * ```
 */
export function parsePairs(
  items: readonly string[] | undefined,
  flag: string,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items ?? []) {
    const at = item.indexOf("=");
    if (at <= 0) throw new UsageError(`${flag} expects key=value, got "${item}"`);
    out[item.slice(0, at)] = item.slice(at + 1);
  }
  return out;
}

/**
 * `all`, `-1`, `1` or `0` to an {@linkcode Acks} value.
 *
 * @example
 * ```ts
 * import { parseAcks } from "./cli.ts";
 * console.log(parseAcks("1")); // 1
 * ```
 */
export function parseAcks(text: string | undefined, fallback: Acks = -1): Acks {
  if (text === undefined) return fallback;
  const map: Record<string, Acks> = { all: -1, "-1": -1, "1": 1, "0": 0 };
  const acks = map[text.toLowerCase()];
  if (acks === undefined) throw new UsageError(`--acks must be all, 1 or 0, got "${text}"`);
  return acks;
}

/**
 * Splits a console line into key and value at the first `separator`
 * (Kafka's `parse.key=true`); without a separator the whole line is the value.
 *
 * @example
 * ```ts
 * import { splitLine } from "./cli.ts";
 * console.log(splitLine("customer-7:{\"total\":12}", ":")); // { key: "customer-7", value: "{\"total\":12}" }
 * ```
 */
export function splitLine(
  line: string,
  separator: string | undefined,
): { key: string | null; value: string } {
  if (separator === undefined) return { key: null, value: line };
  const at = line.indexOf(separator);
  if (at < 0) {
    throw new UsageError(
      `line has no key separator "${separator}": ${JSON.stringify(line.slice(0, 80))}`,
    );
  }
  return { key: line.slice(0, at), value: line.slice(at + separator.length) };
}

/**
 * Lines of a byte stream (e.g. `Deno.stdin.readable`), without their `\n`/`\r\n`;
 * a last line without a newline is kept, empty lines are skipped.
 *
 * @example
 * ```ts
 * import { readLines } from "./cli.ts";
 * for await (const line of readLines(Deno.stdin.readable)) console.log(line);
 * ```
 */
export async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let rest = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    rest += chunk;
    let at: number;
    while ((at = rest.indexOf("\n")) >= 0) {
      const line = rest.slice(0, at).replace(/\r$/, "");
      rest = rest.slice(at + 1);
      if (line !== "") yield line;
    }
  }
  const last = rest.replace(/\r$/, "");
  if (last !== "") yield last;
}

function text(v: unknown): string {
  if (v === undefined || v === null) return "null";
  if (Array.isArray(v)) return v.map(text).join(",");
  return String(v);
}

/** What {@linkcode formatRecord} prints besides the value. */
export interface RecordFormat {
  /** Print the key before the value. */
  printKey?: boolean;
  /** Print the headers (`k:v,k2:v2`, `NO_HEADERS` when none). */
  printHeaders?: boolean;
  /** Print `Partition:p` first. */
  printPartition?: boolean;
  /** Print `Offset:o` after the partition. */
  printOffset?: boolean;
  /** Between fields (default tab, like Kafka's console consumer). */
  separator?: string;
}

/**
 * One consumed record as a console line: `[Partition:p\t][Offset:o\t][headers\t][key\t]value`,
 * headers as `k:v,k2:v2` (`NO_HEADERS` when none), like `kafka-console-consumer`.
 *
 * @example
 * ```ts
 * import { formatRecord } from "./cli.ts";
 * const line = formatRecord(
 *   { partition: 1, offset: "7", key: "k", value: "v", headers: { h: "1" } },
 *   { printKey: true, printHeaders: true },
 * );
 * console.log(line); // "h:1\tk\tv"
 * ```
 */
export function formatRecord(
  record: {
    partition: number;
    offset: string;
    key: { toString(): string } | null;
    value: { toString(): string } | null;
    headers?: IHeaders;
  },
  format: RecordFormat = {},
): string {
  const sep = format.separator ?? "\t";
  const fields: string[] = [];
  if (format.printPartition) fields.push(`Partition:${record.partition}`);
  if (format.printOffset) fields.push(`Offset:${record.offset}`);
  if (format.printHeaders) {
    const entries = Object.entries(record.headers ?? {});
    fields.push(
      entries.length ? entries.map(([k, v]) => `${k}:${text(v)}`).join(",") : "NO_HEADERS",
    );
  }
  if (format.printKey) fields.push(text(record.key));
  fields.push(text(record.value));
  return fields.join(sep);
}
