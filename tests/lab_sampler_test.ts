/**
 * The lab's run sampler (lib/lab/sampler.ts) over a scripted monitor: lag
 * and the rates derived from it, the flush time's mean and slowest bucket
 * per interval from the histogram, a failed scrape in between, alert states.
 * No services.
 */
import assert from "node:assert/strict";
import { LabSampler } from "../lib/lab/mod.ts";
import { MetricsRegistry, parseSamples } from "../lib/observe/mod.ts";
import { registerShopstreamMetrics, type ShopstreamMonitor } from "../lib/shopstream/mod.ts";

/**
 * A monitor whose observations are scripted (lag, appended/s, whether the
 * scrape works) and gated: observation n waits until `release(n)`; after the
 * script it fails (the sampler skips failed observations).
 */
function scripted(
  registry: MetricsRegistry,
  steps: { lag: number; appended: number; ok?: boolean }[],
) {
  let i = 0;
  let released = 0;
  let timeMs = 1_000_000;
  const monitor = {
    async observe() {
      const n = ++i;
      if (n > steps.length) throw new Error("the script is over");
      while (released < n) await new Promise((r) => setTimeout(r, 5));
      const step = steps[n - 1];
      timeMs += 1000;
      const ok = step.ok ?? true;
      return {
        timeMs,
        facts: {
          lag: [{ topic: "t", partition: 0, committed: "0", end: "0", lag: step.lag }],
          underReplicated: [],
        },
        scrape: { url: "", ok, samples: ok ? parseSamples(await registry.scrape()) : [] },
        rates: { seconds: 1, topics: [{ topic: "t", appended: step.appended }], dlqPerSecond: 0 },
        rules: [{ alert: "A", severity: "warning", state: step.lag > 100 ? "firing" : "ok" }],
        alerts: [],
        dlqTotal: 0,
      };
    },
  };
  return {
    monitor: monitor as unknown as ShopstreamMonitor,
    startedAt: 1_000_000,
    release: (n: number) => void (released = n),
  };
}

Deno.test("lab sampler: lag, consumption, flush times per interval, alerts", async () => {
  const registry = new MetricsRegistry();
  const metrics = registerShopstreamMetrics(registry);
  const steps = [
    { lag: 0, appended: 100 },
    { lag: 50, appended: 100 },
    { lag: 200, appended: 100, ok: false }, // the scrape fails: no flush figures
    { lag: 150, appended: 100 },
    { lag: 150, appended: 100 },
  ];
  const { monitor, startedAt, release } = scripted(registry, steps);
  const sampler = new LabSampler(monitor, startedAt, 1);
  const sample = async (n: number) => {
    release(n);
    await sampler.waitFor(`sample ${n}`, () => sampler.samples.length >= n, 5000);
  };
  sampler.start();
  await sample(1);
  metrics.sinkFlushSeconds.observe({ topic: "t" }, 0.02);
  metrics.sinkFlushSeconds.observe({ topic: "t" }, 0.04);
  await sample(2);
  // Between sample 2 and 4 (sample 3's scrape fails): one 9.5 s flush among three short ones.
  for (const s of [9.5, 0.03, 0.03, 0.04]) metrics.sinkFlushSeconds.observe({ topic: "t" }, s);
  await sample(3);
  await sample(4);
  await sample(5);
  await sampler.stop();
  assert.equal(sampler.samples.length, 5);
  const [a, b, c, d, e] = sampler.samples;
  assert.deepEqual([a.t, b.t, c.t, d.t, e.t], [1, 2, 3, 4, 5], "seconds since the start");
  assert.deepEqual(sampler.samples.map((s) => s.lag), [0, 50, 200, 150, 150]);
  assert.equal(b.consumedPerSec, 50, "100 appended, lag grew by 50: 50 consumed");
  assert.equal(d.consumedPerSec, 150, "lag fell by 50: 150 consumed");
  assert.equal(b.flushSeconds, 0.03, "mean of the two flushes before sample 2");
  assert.equal(b.flushSecondsMax, 0.05, "both in the 0.05 s bucket");
  assert.equal(c.flushSeconds, undefined, "a failed scrape has no flush figures");
  assert.ok(Math.abs(d.flushSeconds! - 9.6 / 4) < 1e-9, "mean since the last good scrape");
  assert.equal(
    d.flushSecondsMax,
    10,
    "the 9.5 s flush shows as the 10 s bucket, though the mean is 2.4",
  );
  assert.equal(e.flushSeconds, undefined, "no flush since");
  assert.deepEqual(sampler.samples.map((s) => s.alerts.A), [
    "ok",
    "ok",
    "firing",
    "firing",
    "firing",
  ]);
});
