/**
 * The Prometheus text exposition: what the registry renders (HELP/TYPE,
 * escaping, histogram buckets), what the parser reads back, and the metrics
 * server's two endpoints. No services needed.
 */
import assert from "node:assert/strict";
import {
  escapeLabelValue,
  formatValue,
  MetricsRegistry,
  parseExposition,
  parseSamples,
  parseValue,
  renderExposition,
} from "../lib/observe/prometheus.ts";
import { MetricsServer } from "../lib/observe/metrics_server.ts";

Deno.test("prometheus exposition", async (t) => {
  await t.step("counters and gauges render HELP, TYPE and one line per series", () => {
    const r = new MetricsRegistry();
    const c = r.counter({ name: "app_sent_total", help: "Records sent.", labelNames: ["topic"] });
    const g = r.gauge({ name: "app_buffered", help: "Records buffered." });
    c.inc({ topic: "orders" }, 3);
    c.inc({ topic: "b" });
    c.advanceTo({ topic: "b" }, 0); // never lowers
    g.set({}, 7.5);
    assert.equal(
      r.render(),
      [
        "# HELP app_sent_total Records sent.",
        "# TYPE app_sent_total counter",
        'app_sent_total{topic="b"} 1',
        'app_sent_total{topic="orders"} 3',
        "# HELP app_buffered Records buffered.",
        "# TYPE app_buffered gauge",
        "app_buffered 7.5",
        "",
      ].join("\n"),
    );
  });

  await t.step("label values escape backslash, quote and newline; HELP escapes too", () => {
    const r = new MetricsRegistry();
    const c = r.counter({ name: "x_total", help: 'a\\b\nc "q"', labelNames: ["reason"] });
    c.inc({ reason: 'bad "magic"\\byte\nline2' });
    const text = r.render();
    assert.ok(text.includes('# HELP x_total a\\\\b\\nc "q"\n'), text);
    assert.ok(text.includes('x_total{reason="bad \\"magic\\"\\\\byte\\nline2"} 1'), text);
    const [f] = parseExposition(text);
    assert.equal(f.help, 'a\\b\nc "q"');
    assert.equal(f.samples[0].labels.reason, 'bad "magic"\\byte\nline2');
    assert.equal(escapeLabelValue("plain"), "plain");
  });

  await t.step("histograms: cumulative buckets, +Inf, _sum and _count", () => {
    const r = new MetricsRegistry();
    const h = r.histogram({
      name: "flush_seconds",
      help: "Flush time.",
      labelNames: ["topic"],
      buckets: [0.1, 0.5, 1],
    });
    for (const v of [0.05, 0.1, 0.3, 0.7, 4]) h.observe({ topic: "t" }, v);
    assert.equal(
      r.render(),
      [
        "# HELP flush_seconds Flush time.",
        "# TYPE flush_seconds histogram",
        'flush_seconds_bucket{topic="t",le="0.1"} 2',
        'flush_seconds_bucket{topic="t",le="0.5"} 3',
        'flush_seconds_bucket{topic="t",le="1"} 4',
        'flush_seconds_bucket{topic="t",le="+Inf"} 5',
        'flush_seconds_sum{topic="t"} 5.15',
        'flush_seconds_count{topic="t"} 5',
        "",
      ].join("\n"),
    );
    const [f] = parseExposition(r.render());
    assert.equal(f.type, "histogram");
    assert.equal(f.samples.length, 6, "bucket, sum and count lines belong to the family");
  });

  await t.step("mistakes are refused", () => {
    const r = new MetricsRegistry();
    assert.throws(() => r.counter({ name: "bad-name", help: "" }), /legal metric name/);
    assert.throws(() => r.gauge({ name: "g", help: "", labelNames: ["__x"] }), /legal label/);
    const c = r.counter({ name: "c_total", help: "", labelNames: ["topic"] });
    assert.throws(() => c.inc({}), /takes labels \[topic\]/);
    assert.throws(() => c.inc({ topic: "a", other: "b" }), /takes labels/);
    assert.throws(() => c.inc({ topic: "a" }, -1), /only goes up/);
    assert.throws(() => r.gauge({ name: "c_total", help: "" }), /already registered/);
    assert.equal(r.counter({ name: "c_total", help: "", labelNames: ["topic"] }), c);
    assert.throws(
      () => r.histogram({ name: "h", help: "", buckets: [1, 1] }),
      /strictly ascending/,
    );
    assert.throws(() => r.histogram({ name: "h2", help: "", labelNames: ["le"] }), /reserved/);
    c.advanceTo({ topic: "m" }, 40);
    c.advanceTo({ topic: "m" }, 30);
    assert.equal(c.value({ topic: "m" }), 40, "advanceTo mirrors a total and never goes down");
    assert.equal(c.value({ topic: "never" }), 0);
    assert.equal(r.render().includes("never"), false, "reading a value creates no series");
  });

  await t.step("special values and timestamps", () => {
    assert.equal(formatValue(Infinity), "+Inf");
    assert.equal(formatValue(-Infinity), "-Inf");
    assert.equal(formatValue(NaN), "NaN");
    assert.equal(parseValue("+Inf"), Infinity);
    assert.ok(Number.isNaN(parseValue("NaN")));
    assert.equal(parseValue("-1.5e3"), -1500);
    assert.throws(() => parseValue("abc"), SyntaxError);
    const samples = parseSamples(
      '# a comment\nup 1 1700000000000\nx{a="1", b="2",} -Inf\n\n',
    );
    assert.deepEqual(samples, [
      { name: "up", labels: {}, value: 1, timestampMs: 1700000000000 },
      { name: "x", labels: { a: "1", b: "2" }, value: -Infinity },
    ]);
  });

  await t.step("parser round trip: render(parse(render(r))) == render(r)", () => {
    const r = new MetricsRegistry();
    r.counter({ name: "a_total", help: "A.", labelNames: ["k", "v"] }).inc({ k: "x,y", v: "}{" });
    r.gauge({ name: "b", help: "B with \\ and\nnewline", labelNames: ["p"] }).set({ p: "0" }, -3);
    r.histogram({ name: "c", help: "C.", buckets: [1, 2] }).observe({}, 1.5);
    const text = r.render();
    assert.equal(renderExposition(parseExposition(text)), text);
    assert.deepEqual(parseExposition(text), r.collect());
  });

  await t.step("malformed lines name the line", () => {
    assert.throws(() => parseExposition("ok 1\nbad{a=1} 2\n"), /line 2/);
    assert.throws(() => parseExposition('x{a="1} 2\n'), /unterminated/);
    assert.throws(() => parseExposition("x one\n"), /not a sample value/);
    assert.throws(() => parseExposition("# TYPE x meter\n"), /unknown metric type/);
  });
});

Deno.test("metrics server: /metrics, /health, 404, start and stop", async () => {
  const registry = new MetricsRegistry();
  const lag = registry.gauge({ name: "lag", help: "Lag.", labelNames: ["partition"] });
  let scrapes = 0;
  registry.onScrape(() => {
    scrapes++;
    lag.set({ partition: "0" }, 42);
  });
  let healthy = true;
  const server = new MetricsServer(registry, {
    port: 0,
    health: () => ({ ok: healthy, details: { kafka: healthy ? "connected" : "down" } }),
  });
  await server.start();
  try {
    assert.ok(server.port > 0);
    const res = await fetch(`${server.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
    const [f] = parseExposition(await res.text());
    assert.deepEqual(f.samples, [{ name: "lag", labels: { partition: "0" }, value: 42 }]);
    assert.equal(scrapes, 1, "the scrape hook ran once per request");

    let h = await fetch(`${server.url}/health`);
    assert.equal(h.status, 200);
    assert.deepEqual(await h.json(), { status: "ok", kafka: "connected" });
    healthy = false;
    h = await fetch(`${server.url}/health`);
    assert.equal(h.status, 503);
    assert.deepEqual(await h.json(), { status: "fail", kafka: "down" });

    const nf = await fetch(`${server.url}/nope`);
    assert.equal(nf.status, 404);
    await nf.body?.cancel();

    const clash = new MetricsServer(registry, { port: server.port });
    await assert.rejects(() => clash.start(), /already in use.*METRICS_PORT/);
  } finally {
    await server.stop();
  }
  await assert.rejects(() => fetch(`${server.url}/metrics`));
});
