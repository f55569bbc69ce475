/**
 * The stream processor against the live stack, on unique topics.
 *
 * 1. Beside the pipeline (producer, lake sink, silver, gold): once every
 *    window has closed, the minute windows read back with `read_committed`
 *    and rolled up to hours equal batch gold in the lake to the cent; each
 *    window has exactly one final result, the last of its key; every order
 *    has exactly one join outcome, paid exactly when a captured payment came
 *    within the bound (computed here from the generator's records), and
 *    unpaid orders were reported while the stream ran, once their bound had
 *    passed; every late event is a re-sent copy.
 * 2. The processor as a subprocess (`deno task stream --only`), SIGKILLed
 *    mid-run and started again: the final windows and the join outcomes read
 *    back with `read_committed` are exactly those computed here from the
 *    generator's records; nothing is counted twice and nothing is missing.
 */
import assert from "node:assert/strict";
import { ClusterAdmin } from "../lib/kafka/admin.ts";
import { createKafka } from "../lib/kafka/client.ts";
import { layerPrefix } from "../lib/lake/paths.ts";
import { LakeStore } from "../lib/lake/store.ts";
import {
  decodeJoined,
  decodeLate,
  decodeWindow,
  EventGenerator,
  type GeneratedRecord,
  type GeneratorOptions,
  LakeReader,
  type OrderEvent,
  ORDERS_HOURLY,
  type PaymentEvent,
  Pipeline,
  readTopic,
  rollupHourly,
  ShopStreamProducer,
  StreamProcessor,
  streamTopicsFor,
  type TopicRecord,
  topicsUnder,
  windowKey,
  windowStartOf,
} from "../lib/shopstream/mod.ts";
import { compareWithGold } from "../lib/shopstream/stream/compare.ts";
import { ensureTopics } from "../lib/shopstream/producer.ts";
import { config, requireKafka, requireMinio, requireRegistry, uniqueName } from "./support.ts";

const MIN = 60_000;

/** What the stream must produce, computed from the generated records alone. */
interface Expected {
  /** Window key -> "orders revenue paid". */
  windows: Map<string, string>;
  /** Order id -> paid | unpaid. */
  joined: Map<string, string>;
  /** Event ids that were sent more than once. */
  copied: Set<string>;
  /** Orders and captured payments (what the processor counts). */
  events: number;
}

function expected(records: GeneratedRecord[], boundMs: number): Expected {
  const windows = new Map<string, { orders: number; revenue: bigint; paid: number }>();
  const at = (time: number, region: string) => {
    const key = windowKey(windowStartOf(time, MIN), region);
    let w = windows.get(key);
    if (!w) windows.set(key, w = { orders: 0, revenue: 0n, paid: 0 });
    return w;
  };
  const placed = new Map<string, { time: number; region: string }>();
  const captured = new Map<string, number>();
  const copied = new Set<string>();
  let events = 0;
  for (const r of records) {
    if (r.kind === "duplicate") copied.add((r.value as OrderEvent).envelope.eventId);
    if (r.kind !== "event") continue;
    if (r.eventType === "order.placed") {
      const o = r.value as OrderEvent;
      placed.set(o.orderId, { time: r.occurredAt, region: r.region });
      const w = at(r.occurredAt, r.region);
      w.orders++;
      w.revenue += BigInt(o.total.amountMinor);
      events++;
    } else if (r.eventType === "payment.captured") {
      captured.set((r.value as PaymentEvent).orderId, r.occurredAt);
      events++;
    }
  }
  const joined = new Map<string, string>();
  for (const [orderId, o] of placed) {
    const paidAt = captured.get(orderId);
    const paid = paidAt !== undefined && paidAt >= o.time && paidAt <= o.time + boundMs;
    joined.set(orderId, paid ? "paid" : "unpaid");
    if (paid) at(paidAt, o.region).paid++;
  }
  return {
    windows: new Map([...windows].map(([k, w]) => [k, `${w.orders} ${w.revenue} ${w.paid}`])),
    joined,
    copied,
    events,
  };
}

/** Checks the windows topic: one final per key, the last of its key, equal to `want`. */
function checkWindows(records: TopicRecord[], want: Map<string, string>): void {
  const finals = new Map<string, number>();
  const last = new Map<string, string>();
  for (const r of records) {
    const w = decodeWindow(r.value!);
    assert.ok(!finals.has(r.key!), `${r.key}: a record after its final result`);
    if (w.final) finals.set(r.key!, (finals.get(r.key!) ?? 0) + 1);
    last.set(r.key!, `${w.orders} ${w.revenueMinor} ${w.paid}`);
  }
  const missing = [...want.keys()].filter((k) => !finals.has(k));
  assert.deepEqual(missing.slice(0, 5), [], `${missing.length} windows without a final result`);
  const extra = [...finals.keys()].filter((k) => !want.has(k));
  assert.deepEqual(extra.slice(0, 5), [], "windows that should not exist");
  const wrong = [...want].filter(([k, v]) => last.get(k) !== v)
    .map(([k, v]) => `${k}: "${last.get(k)}" != expected "${v}"`);
  assert.deepEqual(wrong.slice(0, 5), [], `${wrong.length} windows differ (orders revenue paid)`);
}

/** Checks the joined topic: one outcome per order, as expected. */
function checkJoined(records: TopicRecord[], want: Map<string, string>): void {
  const seen = new Map<string, string>();
  for (const r of records) {
    const j = decodeJoined(r.value!);
    assert.ok(!seen.has(j.orderId), `order ${j.orderId} has two join outcomes`);
    seen.set(j.orderId, j.status);
  }
  const wrong = [...want].filter(([id, status]) => seen.get(id) !== status)
    .map(([id, status]) => `${id}: ${seen.get(id) ?? "no outcome"} != expected ${status}`);
  assert.deepEqual(wrong.slice(0, 5), [], `${wrong.length} join outcomes differ`);
  assert.equal(seen.size, want.size);
}

async function createInputs(topics: ReturnType<typeof topicsUnder>): Promise<void> {
  const admin = new ClusterAdmin(createKafka(config));
  await admin.connect();
  try {
    await ensureTopics(admin, config, topics);
  } finally {
    await admin.disconnect();
  }
}

/** Deletes the test's topics and consumer groups. */
async function dropTopics(base: string): Promise<void> {
  const admin = new ClusterAdmin(createKafka(config));
  await admin.connect();
  try {
    const mine = (await admin.listTopics()).filter((t) => t.startsWith(`${base}.`));
    await admin.deleteTopics(mine);
    const groups = (await admin.listGroups()).map((g) => g.groupId)
      .filter((g) => g.startsWith(`${base}.`));
    await admin.deleteGroups(groups).catch(() => {});
  } finally {
    await admin.disconnect();
  }
}

Deno.test({
  name: "stream beside the pipeline: every window closes, the stream equals gold to the cent",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async (t) => {
    await requireKafka();
    await requireRegistry();
    await requireMinio();
    const base = uniqueName("test.stream");
    const topics = topicsUnder(base);
    const events = 30_000, boundMs = 2 * MIN;
    const generator: GeneratorOptions = {
      seed: 9,
      malformedShare: 0.02,
      duplicateShare: 0.03,
      schema: { v2From: events / 2 }, // what the pipeline picks for a counted run
      meanStepMs: 250,
    };
    const kafka = createKafka(config);
    const store = LakeStore.fromConfig(config);
    await createInputs(topics);
    const processor = new StreamProcessor({
      config,
      topics,
      latenessMs: 10_000,
      joinBoundMs: boundMs,
    });
    try {
      await processor.start();
      const started = performance.now();
      const summary = await new Pipeline({
        config,
        topics,
        groupId: `${base}.sink`,
        fresh: false,
        events,
        seed: generator.seed,
        malformedShare: generator.malformedShare,
        duplicateShare: generator.duplicateShare,
        meanStepMs: generator.meanStepMs,
        policy: { maxRecords: 10_000, maxBytes: 8 * 1024 * 1024, maxAgeMs: 1000 },
        metricsPort: false,
      }).run();
      assert.ok(summary.ok, "the pipeline's own checks pass");
      await processor.drain();
      const running = processor.snapshot();
      await processor.finish();
      const s = processor.snapshot();
      console.log(
        `pipeline + stream: ${((performance.now() - started) / 1000).toFixed(1)} s; stream ` +
          `${s.records} records, ${s.transactions} transactions, ${s.windowsClosed} windows, ` +
          `${s.late} late, ${s.paid} paid, ${s.unpaid} unpaid, ${
            Math.round(s.recordsPerSec)
          } records/s`,
      );
      const want = expected(new EventGenerator(generator).take(events), boundMs);
      const windows = await readTopic(kafka, processor.output.windows);
      const finals = windows.map((r) => decodeWindow(r.value!)).filter((w) => w.final);

      await t.step("each window has one final result, as computed from the events", () => {
        checkWindows(windows, want.windows);
        assert.ok(finals.length > 200, `${finals.length} windows`);
      });

      await t.step("the minute windows rolled up to hours equal gold in the lake", async () => {
        const gold = await new LakeReader(store).rows("gold", `${topics.orders}/${ORDERS_HOURLY}`);
        assert.ok(gold.length >= 6, `${gold.length} gold rows`);
        const hourly = rollupHourly(finals);
        assert.deepEqual(compareWithGold(gold, hourly), []);
        assert.deepEqual(compareWithGold(summary.tally.gold(), hourly), []);
      });

      await t.step(
        "the join: paid orders matched once, unpaid ones reported after the bound",
        async () => {
          checkJoined(await readTopic(kafka, processor.output.joined), want.joined);
          const unpaid = [...want.joined.values()].filter((s) => s === "unpaid").length;
          assert.ok(unpaid > 20 && s.paid > 1000, `${s.paid} paid, ${unpaid} unpaid`);
          assert.ok(
            running.unpaid > 0,
            "unpaid orders came out while the stream ran (bound passed)",
          );
          assert.equal(s.paid, [...want.joined.values()].filter((v) => v === "paid").length);
        },
      );

      await t.step("late events went to the late topic, and each is a re-sent copy", async () => {
        const late = (await readTopic(kafka, processor.output.late)).map((r) =>
          decodeLate(r.value!)
        );
        assert.equal(late.length, s.late);
        for (const l of late) assert.ok(want.copied.has(l.eventId), `${l.eventId} is an original`);
        for (const l of late) assert.ok(l.occurredAt < l.watermark);
      });
    } finally {
      await processor.stop().catch(() => {});
      for (const k of Object.values(topics)) {
        for (const layer of ["bronze", "silver", "gold"] as const) {
          await store.removeAll(layerPrefix(layer, k)).catch(() => {});
        }
      }
      await dropTopics(base);
    }
  },
});

/**
 * Runs `deno task stream --only` on `base`; with `killAt`, SIGKILLs it once a
 * progress line shows that many records processed and a transaction committed
 * after a window closed (so the windows topic holds a final result).
 */
async function runProcessor(base: string, killAt?: number) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "tasks/stream.ts",
      "--only",
      "--base",
      base,
      "--bound",
      "2m",
      "--progress-ms",
      "50",
    ],
    cwd: new URL("..", import.meta.url),
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  let out = "", killedAt: number | undefined;
  // The transactions committed when a window was first seen closed: the next one commits its
  // result; the kill waits for one more, so a final result is committed whatever the timing.
  let closedBy: number | undefined;
  const decoder = new TextDecoder();
  for await (const chunk of child.stdout) {
    out += decoder.decode(chunk, { stream: true });
    const complete = out.slice(0, out.lastIndexOf("\n") + 1); // never half a progress line
    const last = [
      ...complete.matchAll(/stream records (\d+) +closed (\d+) .* transactions (\d+)/g),
    ].at(-1);
    const read = Number(last?.[1] ?? 0), closed = Number(last?.[2] ?? 0);
    const committed = Number(last?.[3] ?? 0);
    if (closed > 0) closedBy ??= committed;
    const finalCommitted = closedBy !== undefined && committed > closedBy + 1;
    if (killAt !== undefined && killedAt === undefined && read >= killAt && finalCommitted) {
      child.kill("SIGKILL");
      killedAt = read;
    }
  }
  const status = await child.status;
  return { status, out, err: await stderr, killedAt };
}

Deno.test({
  name: "stream processor SIGKILLed mid-run and restarted: results unchanged, none twice",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await requireKafka();
    await requireRegistry();
    const base = uniqueName("test.stream-kill");
    const topics = topicsUnder(base);
    const events = 100_000, boundMs = 2 * MIN;
    const generator: GeneratorOptions = {
      seed: 23,
      malformedShare: 0.01,
      duplicateShare: 0.03,
      schema: "v2",
      meanStepMs: 250,
    };
    const kafka = createKafka(config);
    try {
      const producer = new ShopStreamProducer(kafka, config, { topics, events, generator });
      await producer.connect();
      await producer.run();
      await producer.disconnect();
      const want = expected(new EventGenerator(generator).take(events), boundMs);

      const first = await runProcessor(base, Math.round(want.events * 0.4));
      assert.equal(first.status.signal, "SIGKILL", `not killed:\n${first.out}\n${first.err}`);
      const output = streamTopicsFor(topics);
      const before = (await readTopic(kafka, output.windows)).map((r) => decodeWindow(r.value!));
      const finalsBefore = before.filter((w) => w.final).length;
      const progress = first.out.trim().split("\n").filter((l) => l.includes("stream records"));
      assert.ok(
        finalsBefore > 0,
        `the first run had closed some windows (killed at ${first.killedAt}; its last progress ` +
          `lines:\n${progress.slice(-4).join("\n")})`,
      );
      assert.ok(finalsBefore < want.windows.size, "the first run was killed before the end");

      const started = performance.now();
      const second = await runProcessor(base);
      const restartMs = performance.now() - started;
      assert.equal(second.status.code, 0, `${second.out}\n${second.err}`);
      assert.match(second.out, /restored \d+ open and [1-9]\d* closed windows/);
      const throughput = /processing throughput\s+([\d,]+) records\/s/.exec(second.out)?.[1];
      console.log(
        `killed at ${first.killedAt} of ${want.events} events (${finalsBefore} of ` +
          `${want.windows.size} windows final); restart to the end ${
            (restartMs / 1000).toFixed(1)
          } s, ${throughput} records/s`,
      );

      const committed = await readTopic(kafka, output.windows);
      const everything = await readTopic(kafka, output.windows, { isolation: "read_uncommitted" });
      console.log(
        `windows topic: ${committed.length} committed records, ` +
          `${everything.length - committed.length} in aborted transactions`,
      );
      checkWindows(committed, want.windows);
      checkJoined(await readTopic(kafka, output.joined), want.joined);
    } finally {
      await dropTopics(base);
    }
  },
});
