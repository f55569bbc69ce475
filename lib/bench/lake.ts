/**
 * How fast bronze rows become Parquet and back, and how big the objects are:
 * the figures behind `deno task bench lake`. Orders are synthetic (seeded,
 * 1-4 lines, 200 skus, three regions) and go through the real Avro type
 * first, so the values look exactly like what the sink decodes.
 *
 * @example
 * ```ts
 * import { benchBronze } from "./lake.ts";
 * const r = await benchBronze({ rows: 1000, repeats: 1 });
 * console.log(r.bytes, Math.round(r.encodeRowsPerSec), Math.round(r.decodeRowsPerSec));
 * ```
 *
 * @module
 */
import { seededRandom } from "../util/random.ts";
import { decodeParquet, encodeParquet, parquetInfo } from "../lake/parquet.ts";
import { tableRows } from "../lake/table.ts";
import { loadCatalog } from "../schema/catalog.ts";
import { BronzeLayout, type BronzeRecord } from "../shopstream/bronze.ts";

/** What {@linkcode benchBronze} measures. */
export interface BronzeBenchOptions {
  /** Rows in the object (default 10,000). */
  readonly rows?: number;
  /** Timed repetitions; the median counts (default 5). */
  readonly repeats?: number;
  /** PRNG seed of the synthetic orders (default 42). */
  readonly seed?: number;
}

/** The figures of one {@linkcode benchBronze} run (medians over the repeats). */
export interface BronzeBenchResult {
  /** Rows in the table. */
  readonly rows: number;
  /** Parquet (zstd) object size. */
  readonly bytes: number;
  /** Parquet bytes per row. */
  readonly bytesPerRow: number;
  /** The Arrow IPC size of the same table: the uncompressed columnar size. */
  readonly arrowBytes: number;
  /** Records -> Arrow table. */
  readonly tableMs: number;
  /** Arrow table -> Parquet bytes. */
  readonly encodeMs: number;
  /** Parquet bytes -> Arrow table. */
  readonly decodeMs: number;
  /** Arrow table -> plain row objects. */
  readonly rowsMs: number;
  /** Records -> Parquet bytes, rows per second. */
  readonly encodeRowsPerSec: number;
  /** Parquet bytes -> Arrow table, rows per second. */
  readonly decodeRowsPerSec: number;
  /** The codecs in the Parquet file, from its footer. */
  readonly codecs: readonly string[];
}

const REGIONS = [["EU", "EUR"], ["US", "USD"], ["APAC", "JPY"]] as const;

/**
 * `n` synthetic order records (v1), decoded through the order schema.
 *
 * @example
 * ```ts
 * import { syntheticOrders } from "./lake.ts";
 * const [r] = await syntheticOrders(1, 7);
 * console.log((r.value as { orderId: string }).orderId.length > 0); // true
 * ```
 */
export async function syntheticOrders(n: number, seed = 42): Promise<BronzeRecord[]> {
  const type = (await loadCatalog()).family("order").versions[0].type;
  const rand = seededRandom(seed);
  const hex = (len: number) =>
    Array.from({ length: len }, () => Math.floor(rand() * 16).toString(16)).join("");
  const start = Date.UTC(2026, 10, 26, 9);
  const out: BronzeRecord[] = [];
  for (let i = 0; i < n; i++) {
    const [region, currency] = REGIONS[Math.floor(rand() * 3)];
    const lines = 1 + Math.floor(rand() * 4);
    const items = Array.from({ length: lines }, () => ({
      sku: `sku-${String(Math.floor(rand() * 200)).padStart(3, "0")}`,
      qty: 1 + Math.floor(rand() * 3),
      unitPrice: { amountMinor: 100 + Math.floor(rand() * 20000), currency },
    }));
    const total = items.reduce((s, it) => s + it.qty * it.unitPrice.amountMinor, 0);
    const at = start + Math.floor((i * 3_600_000) / n);
    const value = {
      envelope: {
        eventId: `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`,
        eventType: "order.placed",
        occurredAt: new Date(at),
        region,
        schemaVersion: 1,
      },
      orderId: `o-${hex(12)}`,
      customerId: `c-${hex(8)}`,
      items,
      total: { amountMinor: total, currency },
      status: "PLACED",
    };
    out.push({
      partition: 0,
      offset: String(i),
      timestamp: at + 3,
      schemaId: 1,
      value: type.fromBuffer(type.toBuffer(value)),
    });
  }
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/**
 * Times records -> Arrow -> Parquet (zstd) and back for one order object.
 *
 * @example
 * ```ts
 * import { benchBronze } from "./lake.ts";
 * console.log((await benchBronze({ rows: 500, repeats: 1 })).codecs); // ["ZSTD"]
 * ```
 */
export async function benchBronze(options: BronzeBenchOptions = {}): Promise<BronzeBenchResult> {
  const rows = options.rows ?? 10_000;
  const repeats = options.repeats ?? 5;
  const records = await syntheticOrders(rows, options.seed ?? 42);
  const layout = BronzeLayout.forFamily((await loadCatalog()).family("order"));
  const table = [], encode = [], decode = [], toRows = [];
  let bytes: Uint8Array = new Uint8Array();
  let arrowBytes = 0;
  for (let i = 0; i < repeats + 1; i++) {
    const t0 = performance.now();
    const t = layout.toTable(records);
    const t1 = performance.now();
    bytes = encodeParquet(t);
    const t2 = performance.now();
    const back = decodeParquet(bytes);
    const t3 = performance.now();
    const plain = tableRows(back);
    const t4 = performance.now();
    if (plain.length !== rows) throw new Error(`read back ${plain.length} rows, wrote ${rows}`);
    if (i === 0) {
      // the first round warms up the JIT and the wasm module
      arrowBytes = t.data.reduce((s, d) => s + d.byteLength, 0);
      continue;
    }
    table.push(t1 - t0);
    encode.push(t2 - t1);
    decode.push(t3 - t2);
    toRows.push(t4 - t3);
  }
  const tableMs = median(table), encodeMs = median(encode);
  const decodeMs = median(decode), rowsMs = median(toRows);
  return {
    rows,
    bytes: bytes.length,
    bytesPerRow: bytes.length / rows,
    arrowBytes,
    tableMs,
    encodeMs,
    decodeMs,
    rowsMs,
    encodeRowsPerSec: rows / ((tableMs + encodeMs) / 1000),
    decodeRowsPerSec: rows / (decodeMs / 1000),
    codecs: (await parquetInfo(bytes)).codecs,
  };
}
