/**
 * An independent read-back of the lake: it lists the bucket and reads every
 * Parquet object itself, trusting no writer's bookkeeping. Tests count rows
 * with it; the notebook and the pipeline summary show its layer summary.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { LakeStore } from "../lake/store.ts";
 * import { formatLakeSummary, LakeReader } from "./lake_reader.ts";
 * const reader = new LakeReader(LakeStore.fromConfig(loadConfig()));
 * console.log(formatLakeSummary(await reader.summary()));
 * // layer   topic              table          regions  partitions  files  rows    bytes
 * // bronze  shopstream.orders                      3          12     40  20000  1.2 MB ...
 * ```
 *
 * @module
 */
import type { Table } from "apache-arrow";
import { decodeParquet, parquetInfo } from "../lake/parquet.ts";
import { type LakeKey, type Layer, LAYERS, parseLakeKey } from "../lake/paths.ts";
import type { LakeStore, StoredObject } from "../lake/store.ts";
import { type Row, tableRows } from "../lake/table.ts";
import { formatTable } from "../util/table.ts";

/** A listed lake object with its key parsed. */
export interface LakeObject extends StoredObject {
  /** The key's layer, topic and partition parts. */
  readonly parsed: LakeKey;
}

/** One line of {@linkcode LakeReader.summary}: a layer's topic (and gold table). */
export interface LakeSummaryRow {
  /** Bronze, silver or gold. */
  readonly layer: Layer;
  /** The Kafka topic. */
  readonly topic: string;
  /** The gold table (e.g. `orders_hourly`); empty for bronze and silver. */
  readonly table: string;
  /** Distinct regions. */
  readonly regions: number;
  /** Distinct region/date/hour partitions. */
  readonly partitions: number;
  /** Objects. */
  readonly files: number;
  /** Rows over all files, from each file's Parquet footer. */
  readonly rows: number;
  /** Bytes over all files. */
  readonly bytes: number;
}

/** A table read from one object, with where it came from. */
export interface LakeTable {
  /** The object's key. */
  readonly key: string;
  /** The key's layer, topic and partition parts. */
  readonly parsed: LakeKey;
  /** The object's rows, decoded from Parquet. */
  readonly table: Table;
}

async function mapLimit<T, R>(items: readonly T[], limit: number, f: (t: T) => Promise<R>) {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await f(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/**
 * Reads the lake back, object by object.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { LakeStore } from "../lake/store.ts";
 * import { LakeReader } from "./lake_reader.ts";
 * const reader = new LakeReader(LakeStore.fromConfig(loadConfig()));
 * console.log((await reader.rows("bronze", "shopstream.orders")).length);
 * ```
 */
export class LakeReader {
  /** A reader over `store`, fetching up to `parallelism` objects at once. */
  constructor(readonly store: LakeStore, readonly parallelism = 4) {}

  /**
   * The lake objects of a layer, optionally of one topic (for gold, `topic`
   * may name the table too: `shopstream.orders/orders_hourly`), sorted by key.
   * Objects whose key is not a lake key are left out.
   *
   * @example
   * ```ts
   * import { loadConfig } from "../config.ts";
   * import { LakeStore } from "../lake/store.ts";
   * import { LakeReader } from "./lake_reader.ts";
   * const reader = new LakeReader(LakeStore.fromConfig(loadConfig()));
   * for (const o of await reader.objects("silver")) console.log(o.key, o.size);
   * ```
   */
  async objects(layer: Layer, topic?: string): Promise<LakeObject[]> {
    const prefix = topic === undefined ? `${layer}/` : `${layer}/${topic}/`;
    const out: LakeObject[] = [];
    for (const o of await this.store.list(prefix)) {
      const parsed = parseLakeKey(o.key);
      if (parsed && parsed.layer === layer) out.push({ ...o, parsed });
    }
    return out;
  }

  /**
   * Every object of a layer's topic as an Arrow table.
   *
   * @example
   * ```ts
   * import { loadConfig } from "../config.ts";
   * import { LakeStore } from "../lake/store.ts";
   * import { LakeReader } from "./lake_reader.ts";
   * const reader = new LakeReader(LakeStore.fromConfig(loadConfig()));
   * for (const t of await reader.tables("gold", "shopstream.orders")) console.log(t.key, t.table.numRows);
   * ```
   */
  async tables(layer: Layer, topic?: string): Promise<LakeTable[]> {
    const objects = await this.objects(layer, topic);
    return await mapLimit(objects, this.parallelism, async (o) => ({
      key: o.key,
      parsed: o.parsed,
      table: decodeParquet(await this.store.get(o.key)),
    }));
  }

  /**
   * Every row of a layer's topic as plain objects, in key order then file order.
   *
   * @example
   * ```ts
   * import { loadConfig } from "../config.ts";
   * import { LakeStore } from "../lake/store.ts";
   * import { LakeReader } from "./lake_reader.ts";
   * const reader = new LakeReader(LakeStore.fromConfig(loadConfig()));
   * const gold = await reader.rows("gold", "shopstream.orders/orders_hourly");
   * console.log(gold[0]?.revenue_minor);
   * ```
   */
  async rows(layer: Layer, topic?: string): Promise<Row[]> {
    const out: Row[] = [];
    for (const t of await this.tables(layer, topic)) {
      for (const r of tableRows(t.table)) out.push(r);
    }
    return out;
  }

  /**
   * Per layer and topic (and gold table): regions, partitions, files, rows
   * (read from every object's footer) and bytes. `topics` narrows it down.
   *
   * @example
   * ```ts
   * import { loadConfig } from "../config.ts";
   * import { LakeStore } from "../lake/store.ts";
   * import { LakeReader } from "./lake_reader.ts";
   * const reader = new LakeReader(LakeStore.fromConfig(loadConfig()));
   * console.log(await reader.summary({ topics: ["shopstream.orders"] }));
   * ```
   */
  async summary(options: { topics?: readonly string[] } = {}): Promise<LakeSummaryRow[]> {
    const objects: LakeObject[] = [];
    for (const layer of LAYERS) {
      if (options.topics) {
        for (const t of options.topics) objects.push(...await this.objects(layer, t));
      } else objects.push(...await this.objects(layer));
    }
    const counts = await mapLimit(
      objects,
      this.parallelism,
      async (o) => (await parquetInfo(await this.store.get(o.key))).rows,
    );
    const groups = new Map<
      string,
      {
        layer: Layer;
        topic: string;
        table: string;
        regions: Set<string>;
        parts: Set<string>;
        files: number;
        rows: number;
        bytes: number;
      }
    >();
    objects.forEach((o, i) => {
      const p = o.parsed;
      const table = p.layer === "gold" ? p.table : "";
      const id = `${p.layer}\u0000${p.topic}\u0000${table}`;
      let g = groups.get(id);
      if (!g) {
        g = {
          layer: p.layer,
          topic: p.topic,
          table,
          regions: new Set(),
          parts: new Set(),
          files: 0,
          rows: 0,
          bytes: 0,
        };
        groups.set(id, g);
      }
      g.regions.add(p.region);
      g.parts.add(`${p.region}/${p.date}/${p.hour}`);
      g.files++;
      g.rows += counts[i];
      g.bytes += o.size;
    });
    const order = (l: Layer) => LAYERS.indexOf(l);
    return [...groups.values()]
      .sort((a, b) =>
        order(a.layer) - order(b.layer) || a.topic.localeCompare(b.topic) ||
        a.table.localeCompare(b.table)
      )
      .map((g) => ({
        layer: g.layer,
        topic: g.topic,
        table: g.table,
        regions: g.regions.size,
        partitions: g.parts.size,
        files: g.files,
        rows: g.rows,
        bytes: g.bytes,
      }));
  }
}

/**
 * A lake summary as an aligned text table.
 *
 * @example
 * ```ts
 * import { formatLakeSummary } from "./lake_reader.ts";
 * console.log(formatLakeSummary([{
 *   layer: "bronze", topic: "t", table: "", regions: 3, partitions: 6, files: 12, rows: 1000, bytes: 52_000,
 * }]));
 * ```
 */
export function formatLakeSummary(rows: readonly LakeSummaryRow[]): string {
  return formatTable(
    ["layer", "topic", "table", "regions", "partitions", "files", "rows", "bytes"],
    rows.map((r) => [
      r.layer,
      r.topic,
      r.table,
      r.regions,
      r.partitions,
      r.files,
      r.rows,
      r.bytes,
    ]),
  );
}
