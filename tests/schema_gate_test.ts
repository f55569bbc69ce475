/**
 * `deno task schemas check`, the CI gate, against the live registry: on
 * subjects of unique topics, a compatible history passes and a breaking
 * version fails with exit code 1, naming the field and the direction.
 */
import assert from "node:assert/strict";
import { loadConfig } from "../lib/config.ts";
import {
  checkCatalog,
  diffSchemas,
  loadCatalog,
  registerCatalog,
  RegistryClient,
} from "../lib/schema/mod.ts";
import { config, requireRegistry, uniqueName } from "./support.ts";

Deno.test("diff lists added, removed and changed fields", async () => {
  const [v1, v2] = (await loadCatalog()).family("clickstream").versions;
  const changes = diffSchemas(v1.schema, v2.schema);
  assert.deepEqual(changes.map((c) => [c.field, c.change]), [
    ["durationMs", "changed"],
    ["referrer", "added"],
  ]);
  assert.equal(changes[0].detail, "int -> long");
  assert.deepEqual(diffSchemas(v2.schema, v1.schema).at(-1)?.change, "removed");
});

Deno.test("schemas check: the gate passes a compatible history and fails a breaking one", async (t) => {
  await requireRegistry();
  const registry = new RegistryClient(config.schemaRegistry.url);
  const suffix = uniqueName("gate");
  const env = {
    TOPIC_ORDERS: `${suffix}.orders`,
    TOPIC_PAYMENTS: `${suffix}.payments`,
    TOPIC_SHIPMENTS: `${suffix}.shipments`,
    TOPIC_CLICKSTREAM: `${suffix}.clickstream`,
  };
  const gateConfig = loadConfig({ ...Deno.env.toObject(), ...env });
  const catalog = await loadCatalog();
  const clickSubject = `${env.TOPIC_CLICKSTREAM}-value`;
  const run = async () => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "tasks/schemas.ts", "check"],
      env,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder();
    return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
  };
  try {
    await t.step("empty subjects: every version is checked and passes", async () => {
      const rows = await checkCatalog(catalog, registry, gateConfig.topics);
      assert.equal(rows.length, catalog.families.flatMap((f) => f.versions).length);
      assert.ok(rows.every((r) => r.ok && !r.alreadyRegistered), JSON.stringify(rows));
    });
    await t.step(
      "FORWARD on clickstream: v2 widens int to long, the gate fails with why",
      async () => {
        await registry.setCompatibility(clickSubject, "FORWARD");
        await registry.register(clickSubject, catalog.family("clickstream").versions[0].text);
        const rows = await checkCatalog(catalog, registry, gateConfig.topics);
        const v2 = rows.find((r) => r.family === "clickstream" && r.version === 2)!;
        assert.equal(v2.ok, false);
        assert.equal(v2.registryOk, false, "the registry agrees");
        assert.match(v2.reasons.join("\n"), /FORWARD: field 'durationMs': v1 reads it as INT/);
        assert.ok(
          rows.find((r) => r.family === "clickstream" && r.version === 1)!.alreadyRegistered,
        );
        const out = await run();
        assert.equal(out.code, 1, out.stdout + out.stderr);
        assert.match(out.stderr, /clickstream v2 breaks .*clickstream-value \(FORWARD\)/);
        assert.match(out.stderr, /durationMs/);
      },
    );
    await t.step("BACKWARD on clickstream: the same history passes, exit 0", async () => {
      await registry.setCompatibility(clickSubject, "BACKWARD");
      const out = await run();
      assert.equal(out.code, 0, out.stdout + out.stderr);
      assert.match(out.stdout, /all 7 schema versions are compatible/);
    });
    await t.step(
      "register: new versions oldest first; a breaking row registers nothing",
      async () => {
        const orderSubject = `${env.TOPIC_ORDERS}-value`;
        const rows = await checkCatalog(catalog, registry, gateConfig.topics);
        const order = rows.filter((r) => r.subject === orderSubject);
        const done = await registerCatalog(catalog, registry, order);
        assert.deepEqual(done.map((r) => r.version), [1, 2]);
        const history = await registry.history(orderSubject);
        assert.deepEqual(history.map((h) => h.id), done.map((r) => r.id));
        const after = await checkCatalog(catalog, registry, gateConfig.topics);
        assert.ok(
          after.filter((r) => r.subject === orderSubject).every((r) => r.alreadyRegistered),
        );
        await registry.setCompatibility(clickSubject, "FORWARD");
        const breaking = await checkCatalog(catalog, registry, gateConfig.topics);
        await assert.rejects(
          () => registerCatalog(catalog, registry, breaking),
          /not registering anything: clickstream v2 would break/,
        );
        assert.deepEqual((await registry.history(clickSubject)).map((h) => h.version), [1]);
      },
    );
  } finally {
    for (const topic of Object.values(env)) await registry.deleteSubject(`${topic}-value`);
  }
});
