/**
 * The poison drill: good records from the seeded generator with poison
 * records among them, through the lake sink, silver and gold; counted by an
 * independent reader. The poison: records that decode (a registered schema,
 * a valid Avro body, the contract's rules of Avro) yet cannot go to the lake:
 *
 * - `year-10000`: `envelope.occurredAt` past 9999-12-31 (a valid Date; no
 *   `date=YYYY-MM-DD` folder can hold it);
 * - `year-before-0`: before 0000-01-01;
 * - `beyond-js-date`: a `timestamp-millis` past JavaScript's Date range
 *   (±8.64e15 ms): it decodes to an Invalid Date;
 * - `no-region`: `envelope.region` null, written with a schema evolution
 *   that made the region optional (registered as a new version of the
 *   orders subject); the sink reads with the evolved catalog, as it would
 *   once that version is the catalog's newest;
 * - `currency-mismatch`: an order of region EU whose lines and total are in
 *   USD (gold sums a region's revenue in its one currency).
 *
 * Before the fix, each of them made the sink's handler throw: kafkajs
 * restarted the consumer on the same record forever, the partition stuck.
 * Verdict: every good record in bronze and silver exactly once, gold equal
 * to the tally, every poison record in the dead-letter topic with reason
 * `validation` and an error naming its problem, none in the lake, the
 * group's lag 0, no consumer restart.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { openDrill } from "./context.ts";
 * import { poisonDrill, poisonTable } from "./poison.ts";
 * const drill = await openDrill(loadConfig());
 * const report = await poisonDrill(drill, { runs: 1 });
 * console.log(poisonTable(report.rows));
 * await drill.close();
 * ```
 *
 * @module
 */
import avsc from "avsc";
import { TopicProducer } from "../kafka/producer.ts";
import { END_LAKE_MS, FIRST_LAKE_MS, MAX_DATE_MS } from "../lake/paths.ts";
import { LakeStore } from "../lake/store.ts";
import { avroOptions } from "../schema/logical_types.ts";
import { type Catalog, loadCatalog, type LoadedSchema } from "../schema/catalog.ts";
import { AvroSerde } from "../schema/serde.ts";
import {
  EventGenerator,
  FAMILY_OF,
  familyTopics,
  GoldJob,
  LakeSink,
  type OrderEvent,
  ShopStreamProducer,
  SilverJob,
  TOPIC_KEYS,
} from "../shopstream/mod.ts";
import { formatTable } from "../util/table.ts";
import { sleep, withDeadline } from "../util/deadline.ts";
import type { DrillContext } from "./context.ts";
import {
  cleanupLakeDrill,
  groupLag,
  lakeDrillNames,
  lakeVerdict,
  readDeadLetterTopic,
  regenerate,
  waitCaughtUp,
} from "./lake_drill.ts";
import { repeatDrill } from "./repeat.ts";

/** The kinds of poison records (see the module doc). */
export type PoisonKind =
  | "year-10000"
  | "year-before-0"
  | "beyond-js-date"
  | "no-region"
  | "currency-mismatch";

/** Every kind, in the order they are sent; each with the error text its dead letter must carry. */
export const POISON_KINDS: readonly { kind: PoisonKind; error: RegExp }[] = [
  {
    kind: "year-10000",
    error: /occurredAt cannot name .*\+010000-.* outside the years 0000\.\.9999/,
  },
  {
    kind: "year-before-0",
    error: /occurredAt cannot name .*-000001-.* outside the years 0000\.\.9999/,
  },
  {
    kind: "beyond-js-date",
    error: /occurredAt is not a valid date \(outside JavaScript's Date range/,
  },
  { kind: "no-region", error: /has no envelope\.region/ },
  { kind: "currency-mismatch", error: /total\.currency: USD is not the currency of region EU/ },
];

/** Settings of {@linkcode poisonDrill}. */
export interface PoisonOptions {
  /** Runs to make (default 1). */
  runs?: number;
  /** Seed of the runs' data and timing. */
  seed?: number;
  /** Good records per run (default 3000). */
  records?: number;
  /** Poison records of each kind per run (default 2). */
  perKind?: number;
  /** Longest the sink may take to commit everything, ms (default 90 000). */
  runTimeoutMs?: number;
  /** Called with each run's row as it ends. */
  onRun?: (row: PoisonRow) => void;
}

/** One run of the poison drill, as the independent reader counted it. */
export interface PoisonRow {
  /** The run's number, from 1. */
  readonly run: number;
  /** Good records sent. */
  readonly good: number;
  /** Poison records sent. */
  readonly poison: number;
  /** Rows in bronze (read back from MinIO). */
  readonly bronzeRows: number;
  /** Rows in silver (read back). */
  readonly silverRows: number;
  /** Rows in gold (read back). */
  readonly goldRows: number;
  /** Good records missing from bronze or silver (ids). */
  readonly lost: number;
  /** Extra copies in bronze or silver, plus gold rows that differ from the tally. */
  readonly doubled: number;
  /** Poison records found in the DLQ with reason `validation` and the right error text. */
  readonly poisonInDlq: number;
  /** Poison missing from the DLQ or with another reason, poison in the lake, good records in the DLQ. */
  readonly misfiled: number;
  /** The sink group's lag after the run (records stuck). */
  readonly stuck: number;
  /** Times the sink's consumer was restarted. */
  readonly restarts: number;
  /** The crash, when the run crashed. */
  readonly crashed?: string;
  /** The run's wall time. */
  readonly seconds: number;
  /** Up to 5 lines about what went wrong. */
  readonly problems: readonly string[];
}

/** Every run and the totals. */
export interface PoisonReport {
  /** Seed of the runs' data and timing. */
  readonly seed: number;
  /** One row per run. */
  readonly rows: readonly PoisonRow[];
  /** Runs where something was lost, doubled, misfiled or stuck, or the sink restarted or crashed. */
  readonly failedRuns: number;
  /** Wall time of all runs. */
  readonly wallSeconds: number;
}

/**
 * Whether a run is clean.
 *
 * @example
 * ```ts
 * import { poisonRunOk } from "./poison.ts";
 * declare const row: import("./poison.ts").PoisonRow;
 * console.log(poisonRunOk(row));
 * ```
 */
export function poisonRunOk(r: PoisonRow): boolean {
  return r.lost === 0 && r.doubled === 0 && r.misfiled === 0 && r.stuck === 0 &&
    r.restarts === 0 && r.crashed === undefined && r.poisonInDlq === r.poison;
}

type Json = Record<string, unknown>;

/** The order schema with `envelope.region` made optional (`["null", Region]`, default null). */
export function optionalRegionSchema(latest: LoadedSchema): LoadedSchema {
  const schema = structuredClone(latest.schema) as Json;
  const envelope = (schema.fields as Json[]).find((f) => f.name === "envelope")!.type as Json;
  const region = (envelope.fields as Json[]).find((f) => f.name === "region")!;
  region.type = ["null", region.type];
  region.default = null;
  region.doc = "The shop region, when the event has one (optional since this evolution).";
  return {
    ...latest,
    version: latest.version + 1,
    file: `${latest.file} (evolved: envelope.region optional)`,
    schema,
    text: JSON.stringify(schema),
    type: avsc.Type.forSchema(schema as avsc.Schema, avroOptions()),
  };
}

/** The schema with `envelope.occurredAt` a plain long: the same bytes for any number of ms. */
function plainTimeType(latest: LoadedSchema): avsc.Type {
  const schema = structuredClone(latest.schema) as Json;
  const envelope = (schema.fields as Json[]).find((f) => f.name === "envelope")!.type as Json;
  const at = (envelope.fields as Json[]).find((f) => f.name === "occurredAt")!;
  at.type = "long";
  return avsc.Type.forSchema(schema as avsc.Schema, avroOptions());
}

/** The repository's catalog with the optional-region version as the order family's newest. */
export function evolvedCatalog(catalog: Catalog): Catalog {
  const order = catalog.family("order");
  const evolved = optionalRegionSchema(order.latest);
  const families = catalog.families.map((f) =>
    f.name === "order" ? { ...f, versions: [...f.versions, evolved], latest: evolved } : f
  );
  return {
    ...catalog,
    families,
    family(name: string) {
      return families.find((f) => f.name === name) ?? catalog.family(name);
    },
  };
}

/** `count` good order.placed values of `region` to mutate (from a generator of their own seed). */
function sampleOrders(seed: number, region: string, count: number): OrderEvent[] {
  const gen = new EventGenerator({ seed: seed + 1000, schema: "v2" });
  const out: OrderEvent[] = [];
  for (let i = 0; i < 100_000 && out.length < count; i++) {
    const r = gen.next();
    if (r.topic === "orders" && r.eventType === "order.placed" && r.region === region) {
      out.push(r.value as OrderEvent); // the generator is dropped: its values are ours to change
    }
  }
  if (out.length < count) throw new Error(`too few orders of region ${region} from the generator`);
  return out;
}

/** Sends `perKind` records of every poison kind to the orders topic; returns their keys by kind. */
async function sendPoison(
  drill: DrillContext,
  topic: string,
  seed: number,
  perKind: number,
): Promise<Map<string, PoisonKind>> {
  const latest = (await loadCatalog()).family("order").latest;
  const serde = new AvroSerde({ url: drill.config.schemaRegistry.url });
  const encode = await serde.encoderFor(topic, latest);
  const encodePlain = await serde.encoderFor(topic, { ...latest, type: plainTimeType(latest) });
  const encodeEvolved = await serde.encoderFor(topic, optionalRegionSchema(latest));
  const keys = new Map<string, PoisonKind>();
  const messages: { key: string; value: Uint8Array }[] = [];
  const samples = sampleOrders(seed, "EU", POISON_KINDS.length * perKind);
  for (const { kind } of POISON_KINDS) {
    for (let i = 0; i < perKind; i++) {
      const key = `poison-${kind}-${seed}-${i}`;
      const v = samples.pop() as unknown as {
        envelope: Json;
        orderId: string;
        items: { unitPrice: { currency: string } }[];
        total: { currency: string };
      };
      v.orderId = key;
      v.envelope.eventId = key;
      let bytes: Uint8Array;
      if (kind === "year-10000") {
        v.envelope.occurredAt = new Date(END_LAKE_MS + i * 3_600_000);
        bytes = encode(v);
      } else if (kind === "year-before-0") {
        v.envelope.occurredAt = new Date(FIRST_LAKE_MS - 1 - i);
        bytes = encode(v);
      } else if (kind === "beyond-js-date") {
        v.envelope.occurredAt = MAX_DATE_MS + 1 + i;
        bytes = encodePlain(v);
      } else if (kind === "no-region") {
        v.envelope.region = null;
        bytes = encodeEvolved(v);
      } else {
        for (const item of v.items) item.unitPrice.currency = "USD";
        v.total.currency = "USD";
        bytes = encode(v);
      }
      keys.set(key, kind);
      messages.push({ key, value: bytes });
    }
  }
  const producer = new TopicProducer(drill.kafka, { topic, acks: -1, idempotent: true });
  await producer.connect();
  try {
    await producer.send(messages);
  } finally {
    await producer.disconnect();
  }
  return keys;
}

/**
 * One run: fresh topics and group; the good records produced while the
 * poison records are sent among them; a lake sink (evolved catalog) runs
 * until its group has committed everything (or the run's bound); silver and
 * gold; the independent reader's verdict; everything deleted.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { openDrill } from "./context.ts";
 * import { poisonRun } from "./poison.ts";
 * const drill = await openDrill(loadConfig());
 * console.log(await poisonRun(drill, 1, { records: 2000 }));
 * await drill.close();
 * ```
 */
export async function poisonRun(
  drill: DrillContext,
  run: number,
  options: PoisonOptions = {},
): Promise<PoisonRow> {
  const started = performance.now();
  const records = options.records ?? 3000;
  const perKind = options.perKind ?? 2;
  const seed = (options.seed ?? 1) * 1000 + run;
  const names = lakeDrillNames("poison");
  const { topics, group } = names;
  const store = LakeStore.fromConfig(drill.config);
  const generator = {
    seed,
    malformedShare: 0,
    duplicateShare: 0,
    schema: { v2From: Math.floor(records / 2) },
    meanStepMs: 900, // a few thousand records span a few UTC hours
  };
  let sink: LakeSink | undefined;
  try {
    await store.ensureBucket();
    const producer = new ShopStreamProducer(drill.kafka, drill.config, {
      topics,
      events: records,
      rate: Math.max(500, records / 4),
      generator,
    });
    await producer.connect();
    let poisonKeys: Map<string, PoisonKind>;
    try {
      const producing = producer.run();
      producing.catch(() => {}); // awaited below
      try {
        // The poison goes in once a third of the good records are out: between good ones.
        while (producer.generator.emitted < records / 3) await sleep(50);
        poisonKeys = await sendPoison(drill, topics.orders, seed, perKind);
      } catch (e) {
        producer.stop();
        await producing.catch(() => {});
        throw e;
      }
      await producing;
    } finally {
      await producer.disconnect();
    }
    drill.log(`run ${run}: ${records} good and ${poisonKeys.size} poison records sent`);

    sink = new LakeSink({
      config: drill.config,
      catalog: evolvedCatalog(await loadCatalog()),
      groupId: group,
      topics: familyTopics(topics),
      deadLetterTopic: topics.deadLetter,
      policy: { maxRecords: 1000, maxBytes: 4 * 1024 * 1024, maxAgeMs: 500 },
    });
    await sink.connect();
    await sink.run();
    const running = sink;
    await waitCaughtUp(
      drill,
      group,
      topics,
      options.runTimeoutMs ?? 90_000,
      () => running.crashed !== undefined,
    );
    const m = sink.metrics();
    const crashed = sink.crashed?.message;
    await sink.stop(10_000);
    sink = undefined;
    const stuck = await groupLag(drill, group, topics);

    await withDeadline(
      (async () => {
        const silver = new SilverJob(store);
        for (const k of TOPIC_KEYS) await silver.run(topics[k], FAMILY_OF[k]);
        await new GoldJob(store).run(topics.orders);
      })(),
      120_000,
      "silver and gold",
    );

    const sent = regenerate(generator, records);
    const lake = await lakeVerdict(store, topics, sent);
    const letters = await readDeadLetterTopic(drill, topics.deadLetter);
    const problems: string[] = [];
    let poisonInDlq = 0;
    let misfiled = 0;
    const byKey = new Map<string, number>();
    for (const l of letters) byKey.set(l.key, (byKey.get(l.key) ?? 0) + 1);
    for (const [key, kind] of poisonKeys) {
      const mine = letters.filter((l) => l.key === key);
      const expected = POISON_KINDS.find((p) => p.kind === kind)!.error;
      const good = mine.filter((l) =>
        l.info.reason === "validation" && expected.test(l.info.error)
      );
      if (good.length > 0) poisonInDlq++;
      else {
        misfiled++;
        problems.push(
          mine.length === 0
            ? `${kind}: ${key} is not in the DLQ`
            : `${kind}: ${key} in the DLQ as ${mine[0].info.reason}: ${mine[0].info.error}`,
        );
      }
    }
    const strangers = letters.filter((l) => !poisonKeys.has(l.key));
    if (strangers.length > 0) {
      misfiled += strangers.length;
      problems.push(`${strangers.length} good records in the DLQ, e.g. ${strangers[0].info.error}`);
    }
    misfiled += lake.bronze.foreign + lake.silver.foreign;
    if (lake.bronze.foreign > 0) problems.push(`${lake.bronze.foreign} poison ids in bronze`);
    if (lake.bronze.lost + lake.silver.lost > 0) {
      problems.push(`lost: ${lake.bronze.lost} in bronze, ${lake.silver.lost} in silver`);
    }
    problems.push(...lake.goldDiffs.slice(0, 3).map((d) => `gold ${d}`));
    if (stuck > 0) problems.push(`${stuck} records not committed: the partition is stuck`);
    if (crashed) problems.push(`the sink crashed: ${crashed}`);
    return {
      run,
      good: records,
      poison: poisonKeys.size,
      bronzeRows: lake.bronze.rows,
      silverRows: lake.silver.rows,
      goldRows: lake.goldRows,
      lost: lake.bronze.lost + lake.silver.lost,
      doubled: lake.bronze.doubled + lake.silver.doubled + lake.goldDiffs.length,
      poisonInDlq,
      misfiled,
      stuck,
      restarts: m.consumerRestarts,
      crashed,
      seconds: (performance.now() - started) / 1000,
      problems: problems.slice(0, 5),
    };
  } finally {
    await sink?.stop(5000).catch(() => {});
    await cleanupLakeDrill(drill, store, names);
  }
}

/**
 * Runs the poison drill `runs` times (seeds differ per run).
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { openDrill } from "./context.ts";
 * import { poisonDrill } from "./poison.ts";
 * const drill = await openDrill(loadConfig());
 * console.log((await poisonDrill(drill, { runs: 2 })).failedRuns); // 0
 * await drill.close();
 * ```
 */
export async function poisonDrill(
  drill: DrillContext,
  options: PoisonOptions = {},
): Promise<PoisonReport> {
  return await repeatDrill(options, (run) => poisonRun(drill, run, options), poisonRunOk);
}

/** Column names of the poison table. */
export const POISON_COLUMNS = [
  "run",
  "good",
  "poison",
  "bronze",
  "silver",
  "gold rows",
  "poison in DLQ",
  "lost",
  "doubled",
  "misfiled",
  "stuck",
  "restarts",
  "s",
] as const;

/**
 * The poison rows as an aligned table.
 *
 * @example
 * ```ts
 * import { poisonTable } from "./poison.ts";
 * console.log(poisonTable([]));
 * ```
 */
export function poisonTable(rows: readonly PoisonRow[]): string {
  return formatTable(
    POISON_COLUMNS,
    rows.map((r) => [
      r.run,
      r.good,
      r.poison,
      r.bronzeRows,
      r.silverRows,
      r.goldRows,
      `${r.poisonInDlq}/${r.poison}`,
      r.lost,
      r.doubled,
      r.misfiled,
      r.stuck,
      r.restarts,
      r.seconds.toFixed(1),
    ]),
  );
}

/**
 * The summary line of a poison drill.
 *
 * @example
 * ```ts
 * import { poisonSummary } from "./poison.ts";
 * console.log(poisonSummary({ seed: 1, rows: [], failedRuns: 0, wallSeconds: 0 }));
 * ```
 */
export function poisonSummary(r: PoisonReport): string {
  const sum = (f: (x: PoisonRow) => number) => r.rows.reduce((n, x) => n + f(x), 0);
  const kinds = POISON_KINDS.map((p) => p.kind).join(", ");
  return `poison: ${r.rows.length} runs (seed ${r.seed}), ${sum((x) => x.good)} good and ` +
    `${sum((x) => x.poison)} poison records (${kinds}); ${sum((x) => x.poisonInDlq)} poison in ` +
    `the DLQ with their reason, ${sum((x) => x.lost)} lost, ${sum((x) => x.doubled)} doubled, ` +
    `${sum((x) => x.misfiled)} misfiled, ${sum((x) => x.stuck)} stuck, ` +
    `${sum((x) => x.restarts)} consumer restarts; ${r.failedRuns} failed runs; ` +
    `wall time ${r.wallSeconds.toFixed(1)} s` +
    r.rows.flatMap((x) => x.problems.map((p) => `\n  run ${x.run}: ${p}`)).join("");
}
