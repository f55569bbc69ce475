/**
 * Integration tests of the native Schema Registry against live Kafka: an
 * in-process registry on a free port and a unique `_schemas_test.*` topic,
 * exercised over HTTP (every endpoint, error statuses and codes, deletes,
 * configs, compatibility), restarted on the same topic, its raw records read
 * back, and driven by `@kafkajs/confluent-schema-registry`. A second test
 * checks the status codes of whatever registry `SCHEMA_REGISTRY_URL` names.
 * Bounds: a body over the limit is answered 413 (declared or streamed), and a
 * `_schemas` send that never returns costs each write at most its timeout
 * (500/50002, for the write itself and for the one queued behind it); the
 * lock passes on once the stuck send settles.
 */
import assert from "node:assert/strict";
import { SchemaRegistry, SchemaType } from "@kafkajs/confluent-schema-registry";
import kafkajs, {
  type Consumer,
  type ConsumerConfig,
  type ConsumerRunConfig,
  type Kafka,
  logLevel,
  type Producer,
  type ProducerConfig,
  type ProducerRecord,
} from "kafkajs";
import { createKafka } from "../lib/kafka/client.ts";
import { CONTENT_TYPE, type RunningRegistry, startRegistry } from "../lib/registry/mod.ts";
import { ErrorCode } from "../lib/schema/mod.ts";
import { withDeadline } from "../lib/util/mod.ts";
import { config, requireKafka, uniqueName, waitFor } from "./support.ts";

interface Reply {
  status: number;
  // deno-lint-ignore no-explicit-any
  body: any;
  text: string;
  type: string | null;
}

async function http(base: string, method: string, path: string, body?: unknown): Promise<Reply> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": CONTENT_TYPE },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, body: parsed, text, type: res.headers.get("content-type") };
}

function assertError(r: Reply, status: number, code: number | number[]): void {
  assert.equal(r.status, status, r.text);
  const codes = Array.isArray(code) ? code : [code];
  assert.ok(codes.includes(r.body?.error_code), `error_code ${r.body?.error_code}: ${r.text}`);
  assert.equal(typeof r.body.message, "string");
}

const record = (name: string, fields: unknown[]) =>
  JSON.stringify({ type: "record", name, namespace: "shop", fields });
const ID = { name: "id", type: "int" };
const USER_V1 = record("User", [ID]);
const USER_V2 = record("User", [ID, { name: "email", type: "string", default: "" }]);
const USER_BAD = record("User", [ID, { name: "phone", type: "string" }]);
const enc = encodeURIComponent;

Deno.test("native schema registry over HTTP, backed by live Kafka", async (t) => {
  await requireKafka();
  const topic = uniqueName("_schemas_test");
  const logs: string[] = [];
  const start = () =>
    startRegistry({ config, port: 0, hostname: "127.0.0.1", topic, log: (m) => logs.push(m) });
  let registry: RunningRegistry = await start();
  const kafka = createKafka(config, { clientId: "registry-test" });
  const admin = kafka.admin();
  await admin.connect();
  let maxId = 0;
  const call = async (method: string, path: string, body?: unknown) => {
    const r = await http(registry.url, method, path, body);
    if (method === "POST" && /^\/subjects\/[^/]+\/versions$/.test(path) && r.status === 200) {
      maxId = Math.max(maxId, r.body.id);
    }
    return r;
  };
  let userId = 0;

  try {
    await t.step("root, schema types, content type, unknown routes", async () => {
      const root = await call("GET", "/");
      assert.equal(root.status, 200);
      assert.deepEqual(root.body, {});
      assert.equal(root.type, CONTENT_TYPE);
      assert.deepEqual((await call("GET", "/schemas/types")).body, ["AVRO"]);
      assertError(await call("GET", "/no/such/route"), 404, 404);
      assertError(await call("PUT", "/subjects"), 405, 405);
      assert.deepEqual((await call("GET", "/mode")).body, { mode: "READWRITE" });
    });

    await t.step("register, same id across subjects, read back every way", async () => {
      const first = await call("POST", "/subjects/users-value/versions", { schema: USER_V1 });
      assert.equal(first.status, 200, first.text);
      assert.deepEqual(Object.keys(first.body), ["id"]);
      userId = first.body.id;
      // Whitespace and key order do not make a new schema or version.
      const spaced =
        '{ "namespace": "shop", "type": "record",\n "fields": [ { "type": "int", "name": "id" } ], "name": "User" }';
      const again = await call("POST", "/subjects/users-value/versions", {
        schema: spaced,
        schemaType: "AVRO",
      });
      assert.deepEqual(again.body, { id: userId });
      assert.deepEqual((await call("GET", "/subjects/users-value/versions")).body, [1]);
      const other = await call("POST", "/subjects/audit-value/versions", { schema: USER_V1 });
      assert.deepEqual(other.body, { id: userId });
      // Also accepted with application/json and with no content type.
      for (const headers of [{ "content-type": "application/json" }, {}] as HeadersInit[]) {
        const plain = await fetch(`${registry.url}/subjects/audit-value`, {
          method: "POST",
          headers,
          body: JSON.stringify({ schema: USER_V1 }),
        });
        assert.equal((await plain.json()).id, userId);
      }

      const expected = { subject: "users-value", version: 1, id: userId, schema: USER_V1 };
      const lookup = await call("POST", "/subjects/users-value", { schema: USER_V1 });
      assert.deepEqual(lookup.body, expected);
      for (const v of ["1", "latest", "-1"]) {
        assert.deepEqual((await call("GET", `/subjects/users-value/versions/${v}`)).body, expected);
      }
      const raw = await call("GET", "/subjects/users-value/versions/1/schema");
      assert.equal(raw.text, USER_V1);
      assert.deepEqual(
        (await call("GET", "/subjects/users-value/versions/1/referencedby")).body,
        [],
      );
      assert.deepEqual((await call("GET", `/schemas/ids/${userId}`)).body, { schema: USER_V1 });
      assert.equal((await call("GET", `/schemas/ids/${userId}/schema`)).text, USER_V1);
      assert.deepEqual((await call("GET", `/schemas/ids/${userId}/subjects`)).body, [
        "audit-value",
        "users-value",
      ]);
      assert.deepEqual((await call("GET", `/schemas/ids/${userId}/versions`)).body, [
        { subject: "audit-value", version: 1 },
        { subject: "users-value", version: 1 },
      ]);
      assert.deepEqual((await call("GET", "/subjects")).body, ["audit-value", "users-value"]);
    });

    await t.step("error statuses and codes", async () => {
      assertError(await call("POST", "/subjects/nope", { schema: USER_V1 }), 404, 40401);
      assertError(await call("POST", "/subjects/users-value", { schema: '"string"' }), 404, 40403);
      assertError(await call("GET", "/subjects/nope/versions"), 404, 40401);
      assertError(await call("GET", "/subjects/nope/versions/1"), 404, 40401);
      assertError(await call("GET", "/subjects/users-value/versions/99"), 404, 40402);
      assertError(await call("GET", "/subjects/users-value/versions/99/schema"), 404, 40402);
      assertError(await call("GET", "/subjects/users-value/versions/99/referencedby"), 404, 40402);
      for (const v of ["abc", "0", "-2", "1.5"]) {
        assertError(await call("GET", `/subjects/users-value/versions/${v}`), 422, 42202);
      }
      for (const path of ["/schemas/ids/999999", "/schemas/ids/999999/schema"]) {
        assertError(await call("GET", path), 404, 40403);
      }
      assertError(await call("GET", "/schemas/ids/999999/subjects"), 404, 40403);
      assertError(await call("GET", "/schemas/ids/999999/versions"), 404, 40403);
      const invalid = await call("POST", "/subjects/users-value/versions", {
        schema: '{"type":"nope"}',
      });
      assertError(invalid, 422, 42201);
      assert.match(invalid.body.message, /Invalid schema/);
      assertError(await call("POST", "/subjects/users-value/versions", { schema: "" }), 422, 42201);
      assertError(await call("POST", "/subjects/users-value/versions", {}), 422, 42201);
      assertError(
        await call("POST", "/subjects/users-value/versions", {
          schema: 'syntax = "proto3";',
          schemaType: "PROTOBUF",
        }),
        422,
        42201,
      );
      assertError(await call("POST", "/subjects/users-value/versions", "{not json"), 400, 400);
      assertError(await call("POST", "/subjects/users-value/versions", "[1]"), 422, 422);
    });

    await t.step("compatibility on register and the compatibility endpoints", async () => {
      const bad = await call("POST", "/subjects/users-value/versions", { schema: USER_BAD });
      assertError(bad, 409, ErrorCode.INCOMPATIBLE_SCHEMA);
      assert.match(
        bad.body.message,
        /^Schema being registered is incompatible with an earlier schema for subject "users-value", details: \[.*phone.*\]$/,
      );
      const v2 = await call("POST", "/subjects/users-value/versions", { schema: USER_V2 });
      assert.equal(v2.status, 200, v2.text);
      assert.notEqual(v2.body.id, userId);
      assert.deepEqual((await call("GET", "/subjects/users-value/versions")).body, [1, 2]);

      const base = "/compatibility/subjects/users-value/versions";
      assert.deepEqual((await call("POST", `${base}/latest`, { schema: USER_BAD })).body, {
        is_compatible: false,
      });
      const verbose = await call("POST", `${base}/latest?verbose=true`, { schema: USER_BAD });
      assert.equal(verbose.body.is_compatible, false);
      assert.ok(
        verbose.body.messages.some((m: string) =>
          /field 'phone'.*new schema has no default value.*missing in the old schema/.test(m)
        ),
        verbose.text,
      );
      assert.deepEqual((await call("POST", `${base}/1`, { schema: USER_V2 })).body, {
        is_compatible: true,
      });
      assert.deepEqual((await call("POST", base, { schema: USER_V2 })).body, {
        is_compatible: true,
      });
      assert.deepEqual((await call("POST", `${base}?verbose=true`, { schema: USER_V2 })).body, {
        is_compatible: true,
        messages: [],
      });
      assertError(await call("POST", `${base}/99`, { schema: USER_V2 }), 404, 40402);
      assertError(await call("POST", `${base}/abc`, { schema: USER_V2 }), 422, 42202);
      assertError(await call("POST", `${base}/latest`, { schema: "{" }), 422, 42201);
      const invalidVerbose = await call("POST", `${base}/latest?verbose=true`, { schema: "{" });
      assert.equal(invalidVerbose.body.is_compatible, false);
      assert.equal(invalidVerbose.body.messages.length, 1);
      // A subject without versions: "latest" and "all" are compatible, as in Confluent.
      const none = "/compatibility/subjects/nobody/versions";
      assert.deepEqual((await call("POST", `${none}/latest`, { schema: USER_BAD })).body, {
        is_compatible: true,
      });
      assertError(await call("POST", `${none}/1`, { schema: USER_BAD }), 404, 40402);
    });

    await t.step("global and per-subject config", async () => {
      assert.deepEqual((await call("GET", "/config")).body, { compatibilityLevel: "BACKWARD" });
      assertError(await call("GET", "/config/users-value"), 404, 40408);
      assert.deepEqual((await call("GET", "/config/users-value?defaultToGlobal=true")).body, {
        compatibilityLevel: "BACKWARD",
      });
      assertError(
        await call("PUT", "/config/users-value", { compatibility: "SIDEWAYS" }),
        422,
        42203,
      );
      assertError(await call("PUT", "/config", { compatibility: 7 }), 422, 42203);
      assert.deepEqual((await call("PUT", "/config/users-value", { compatibility: "FULL" })).body, {
        compatibility: "FULL",
      });
      assert.deepEqual((await call("GET", "/config/users-value")).body, {
        compatibilityLevel: "FULL",
      });
      // FULL: a field without default breaks backward reading; with NONE globally it still fails,
      // because the subject's own level wins.
      assert.deepEqual((await call("PUT", "/config", { compatibility: "none" })).body, {
        compatibility: "NONE",
      });
      assert.deepEqual((await call("GET", "/config")).body, { compatibilityLevel: "NONE" });
      assertError(
        await call("POST", "/subjects/users-value/versions", { schema: USER_BAD }),
        409,
        409,
      );
      assert.deepEqual((await call("DELETE", "/config/users-value")).body, {
        compatibilityLevel: "FULL",
      });
      assertError(await call("DELETE", "/config/users-value"), 404, 40401);
      // Now the global NONE applies.
      const loose = await call("POST", "/subjects/audit-value/versions", { schema: USER_BAD });
      assert.equal(loose.status, 200, loose.text);
      assert.deepEqual((await call("DELETE", "/config")).body, { compatibilityLevel: "NONE" });
      assert.deepEqual((await call("GET", "/config")).body, { compatibilityLevel: "BACKWARD" });
      assert.deepEqual(
        (await call("PUT", "/config/audit-value", { compatibility: "FORWARD" })).body,
        {
          compatibility: "FORWARD",
        },
      );
    });

    await t.step("soft and hard deletes; versions are never reused", async () => {
      const s = "/subjects/orders-value";
      const v1 = record("Order", [ID]);
      const v2 = record("Order", [ID, { name: "total", type: "double", default: 0 }]);
      const v2Id = (await call("POST", `${s}/versions`, { schema: v1 })).body.id + 1;
      assert.equal((await call("POST", `${s}/versions`, { schema: v2 })).body.id, v2Id);
      await call("PUT", "/config/orders-value", { compatibility: "BACKWARD_TRANSITIVE" });

      assertError(await call("DELETE", `${s}/versions/2?permanent=true`), 404, 40407);
      assert.deepEqual((await call("DELETE", `${s}/versions/2`)).body, 2);
      assertError(await call("DELETE", `${s}/versions/2`), 404, 40406);
      assert.deepEqual((await call("GET", `${s}/versions`)).body, [1]);
      assert.deepEqual((await call("GET", `${s}/versions?deleted=true`)).body, [1, 2]);
      assertError(await call("GET", `${s}/versions/2`), 404, 40402);
      assert.equal((await call("GET", `${s}/versions/2?deleted=true`)).body.version, 2);
      assertError(await call("POST", s, { schema: v2 }), 404, 40403);
      assert.equal((await call("POST", `${s}?deleted=true`, { schema: v2 })).body.version, 2);
      assert.deepEqual((await call("GET", `/schemas/ids/${v2Id}`)).body, { schema: v2 });
      assert.deepEqual((await call("DELETE", `${s}/versions/2?permanent=true`)).body, 2);
      assert.deepEqual((await call("GET", `${s}/versions?deleted=true`)).body, [1]);
      assertError(await call("GET", `/schemas/ids/${v2Id}`), 404, 40403);

      // Re-registering gets version 3, not 2.
      const again = await call("POST", `${s}/versions`, { schema: v2 });
      assert.equal(again.status, 200, again.text);
      assert.deepEqual((await call("GET", `${s}/versions`)).body, [1, 3]);
      assert.equal((await call("GET", `${s}/versions/latest`)).body.version, 3);

      assertError(await call("DELETE", `${s}?permanent=true`), 404, 40405);
      assert.deepEqual((await call("DELETE", s)).body, [1, 3]);
      assertError(await call("DELETE", s), 404, 40404);
      assert.ok(!(await call("GET", "/subjects")).body.includes("orders-value"));
      assert.ok((await call("GET", "/subjects?deleted=true")).body.includes("orders-value"));
      assertError(await call("GET", `${s}/versions`), 404, 40401);
      assertError(await call("GET", `${s}/versions/latest`), 404, 40401);
      assertError(await call("POST", s, { schema: v1 }), 404, 40401);
      assert.deepEqual((await call("GET", `${s}/versions?deleted=true`)).body, [1, 3]);
      assert.deepEqual((await call("GET", "/config/orders-value")).body, {
        compatibilityLevel: "BACKWARD_TRANSITIVE",
      });
      assert.deepEqual((await call("DELETE", `${s}?permanent=true`)).body, [1, 3]);
      assert.ok(!(await call("GET", "/subjects?deleted=true")).body.includes("orders-value"));
      assertError(await call("GET", "/config/orders-value"), 404, 40408);
      assertError(await call("DELETE", s), 404, 40401);
      assertError(await call("DELETE", `${s}?permanent=true`), 404, 40401);
      assertError(await call("DELETE", "/subjects/nope/versions/1"), 404, 40401);
      assertError(await call("DELETE", "/subjects/users-value/versions/99"), 404, 40402);
      assertError(await call("DELETE", "/subjects/users-value/versions/abc"), 422, 42202);

      // Hard-deleted, then registered again: a fresh version after the highest ever used.
      const fresh = await call("POST", `${s}/versions`, { schema: v1 });
      assert.equal(fresh.status, 200, fresh.text);
      assert.deepEqual((await call("GET", `${s}/versions`)).body, [4]);
      // Soft-deleted (via "latest"), then registered again: same id, new version, and the
      // soft-deleted version with that id is tombstoned, as Confluent does.
      assert.deepEqual((await call("DELETE", `${s}/versions/latest`)).body, 4);
      assertError(await call("GET", `${s}/versions/latest`), 404, 40401);
      const revived = await call("POST", `${s}/versions`, { schema: v1 });
      assert.equal(revived.body.id, fresh.body.id);
      assert.deepEqual((await call("GET", `${s}/versions?deleted=true`)).body, [5]);
    });

    await t.step("everything survives a restart on the same topic", async () => {
      const snapshot = async () => {
        const out: Record<string, unknown> = {};
        for (
          const path of [
            "/subjects",
            "/subjects?deleted=true",
            "/subjects/users-value/versions",
            "/subjects/users-value/versions/2",
            "/subjects/audit-value/versions",
            "/subjects/orders-value/versions?deleted=true",
            "/subjects/orders-value/versions/5",
            `/schemas/ids/${userId}/versions`,
            "/config",
            "/config/audit-value",
            "/config/users-value",
          ]
        ) {
          const r = await call("GET", path);
          out[path] = [r.status, r.body];
        }
        return out;
      };
      const before = await snapshot();
      await registry.close();
      registry = await start();
      assert.deepEqual(await snapshot(), before);
      const highest = maxId;
      const next = await call("POST", "/subjects/fresh-value/versions", { schema: '"string"' });
      assert.equal(next.status, 200, next.text);
      assert.equal(next.body.id, highest + 1, "ids continue after the highest ever used");
      // Versions still continue after the highest ever used.
      const again = await call("POST", "/subjects/orders-value/versions", {
        schema: record("Order", [ID, { name: "total", type: "double", default: 0 }]),
      });
      assert.equal(again.status, 200, again.text);
      assert.deepEqual((await call("GET", "/subjects/orders-value/versions")).body, [5, 6]);
    });

    await t.step("the raw _schemas records are in Confluent's format", async () => {
      const [{ high }] = await admin.fetchTopicOffsets(topic);
      const groupId = uniqueName("registry-test-reader");
      const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 200 });
      const records: { key: string; value: string | null; offset: number }[] = [];
      await consumer.connect();
      try {
        await consumer.subscribe({ topics: [topic], fromBeginning: true });
        await consumer.run({
          autoCommit: false,
          eachMessage: ({ message }) => {
            records.push({
              key: message.key?.toString() ?? "",
              value: message.value === null ? null : message.value.toString(),
              offset: Number(message.offset),
            });
            return Promise.resolve();
          },
        });
        await waitFor(
          "every _schemas record",
          () => records.some((r) => r.offset >= Number(high) - 1),
          30_000,
          100,
        );
      } finally {
        await consumer.disconnect();
        await admin.deleteGroups([groupId]).catch(() => {});
      }
      const keys = records.map((r) => JSON.parse(r.key));
      const types = new Set(keys.map((k) => k.keytype));
      for (const k of ["SCHEMA", "CONFIG", "DELETE_SUBJECT", "NOOP"]) assert.ok(types.has(k), k);
      for (const r of records) {
        const k = JSON.parse(r.key);
        if (k.keytype === "SCHEMA") {
          assert.equal(
            r.key,
            `{"keytype":"SCHEMA","subject":${
              JSON.stringify(k.subject)
            },"version":${k.version},"magic":1}`,
          );
          if (r.value !== null) {
            const v = JSON.parse(r.value);
            assert.deepEqual(Object.keys(v), ["subject", "version", "id", "schema", "deleted"]);
            assert.equal(v.subject, k.subject);
            assert.equal(v.version, k.version);
            assert.equal(typeof v.deleted, "boolean");
          }
        } else if (k.keytype === "CONFIG") {
          assert.equal(
            r.key,
            k.subject === undefined
              ? '{"keytype":"CONFIG","magic":0}'
              : `{"keytype":"CONFIG","subject":${JSON.stringify(k.subject)},"magic":0}`,
          );
          if (r.value !== null) {
            const v = JSON.parse(r.value);
            assert.equal(v.subject, k.subject);
            assert.ok(typeof v.compatibilityLevel === "string");
          }
        } else if (k.keytype === "DELETE_SUBJECT") {
          assert.equal(
            r.key,
            `{"keytype":"DELETE_SUBJECT","subject":${JSON.stringify(k.subject)},"magic":0}`,
          );
          assert.deepEqual(Object.keys(JSON.parse(r.value!)), ["subject", "version"]);
        } else {
          assert.equal(r.key, '{"keytype":"NOOP","magic":0}');
          assert.equal(r.value, null);
        }
      }
      const soft = records.find((r) =>
        r.key.includes('"SCHEMA"') && r.value?.includes('"deleted":true')
      );
      assert.ok(soft, "a soft-deleted version is a SCHEMA record with deleted:true");
      assert.ok(
        records.some((r) => r.key.includes('"SCHEMA"') && r.value === null),
        "a hard delete is a tombstone",
      );
    });

    await t.step("@kafkajs/confluent-schema-registry works unchanged", async () => {
      const client = new SchemaRegistry({ host: registry.url });
      const schema = JSON.stringify({
        type: "record",
        name: "Payment",
        namespace: "shop",
        fields: [{ name: "orderId", type: "string" }, { name: "amount", type: "double" }],
      });
      const subject = "payments-value";
      const { id } = await client.register({ type: SchemaType.AVRO, schema }, { subject });
      assert.equal(await client.getLatestSchemaId(subject), id);
      assert.equal(
        await client.getRegistryIdBySchema(subject, { type: SchemaType.AVRO, schema }),
        id,
      );
      assert.deepEqual((await call("GET", `/config/${enc(subject)}`)).body, {
        compatibilityLevel: "BACKWARD",
      });
      // A second register goes through the config check the client makes.
      assert.equal((await client.register({ type: SchemaType.AVRO, schema }, { subject })).id, id);
      const payload = { orderId: "o-1", amount: 12.5 };
      const bytes = await client.encode(id, payload);
      assert.equal(bytes[0], 0);
      assert.equal(bytes.readInt32BE(1), id);
      // A fresh client has no cache: decode must fetch the schema by id.
      const decoded = await new SchemaRegistry({ host: registry.url }).decode(bytes);
      assert.deepEqual({ ...decoded }, payload);
    });
  } finally {
    await registry.close();
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.disconnect();
  }
});

/** `real`, except that every producer or consumer it makes first passes through `wrap`. */
function injecting(
  real: Kafka,
  wrap: {
    producer?: (p: Producer) => Producer;
    consumer?: (c: Consumer, options: ConsumerConfig) => Consumer;
  },
): Kafka {
  return new Proxy(real, {
    get(target, prop) {
      if (prop === "producer" && wrap.producer) {
        return (options?: ProducerConfig) => wrap.producer!(target.producer(options));
      }
      if (prop === "consumer" && wrap.consumer) {
        return (options: ConsumerConfig) => wrap.consumer!(target.consumer(options), options);
      }
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** Runs `body` against a registry on a fresh topic that talks through `kafka`, then cleans up. */
async function withRegistryOn(
  kafka: Kafka,
  real: Kafka,
  body: (registry: RunningRegistry, logs: string[]) => Promise<void>,
  options: { maxBodyBytes?: number; writeTimeoutMs?: number } = {},
): Promise<void> {
  const topic = uniqueName("_schemas_test");
  const logs: string[] = [];
  const registry = await startRegistry({
    config,
    port: 0,
    topic,
    kafka,
    log: (m) => logs.push(m),
    ...options,
  });
  const admin = real.admin();
  await admin.connect();
  try {
    await body(registry, logs);
  } finally {
    await registry.close();
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.disconnect();
  }
}

Deno.test("a record kafkajs acknowledged without its partition is sent again", async () => {
  await requireKafka();
  // Simulate the kafkajs fault (see the facts in lib/kafka/mod.ts): send() resolves, but the
  // metadata lacks partition 0 because the record was never written. The store must notice
  // and re-send.
  const real = createKafka(config, { clientId: "registry-test-flaky", level: logLevel.NOTHING });
  let dropped = 0;
  const flaky = injecting(real, {
    producer: (producer) => {
      const send = producer.send.bind(producer);
      producer.send = (record: ProducerRecord) => {
        if (dropped < 2 && record.messages.some((m) => m.value !== null)) {
          dropped++;
          return Promise.resolve([]);
        }
        return send(record);
      };
      return producer;
    },
  });
  await withRegistryOn(flaky, real, async (registry, logs) => {
    const r = await http(registry.url, "POST", "/subjects/flaky-value/versions", {
      schema: USER_V1,
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(dropped, 2);
    assert.equal(
      logs.filter((m) => m.includes("the send resolved without partition 0 in its metadata"))
        .length,
      2,
      logs.join("\n"),
    );
    assert.deepEqual(
      (await http(registry.url, "GET", "/subjects/flaky-value/versions/latest")).body,
      { subject: "flaky-value", version: 1, id: r.body.id, schema: USER_V1 },
    );
  });
});

Deno.test("a reader that crashes is replaced by a new one in a group of its own", async () => {
  await requireKafka();
  // The store never lets kafkajs restart its reader in the same group (a rejoin after a broker
  // restart can wait for the member's own old incarnation): a new reader takes over.
  const { KafkaJSNonRetriableError } = kafkajs as unknown as {
    KafkaJSNonRetriableError: new (message: string) => Error;
  };
  const real = createKafka(config, { clientId: "registry-test-crash", level: logLevel.NOTHING });
  let thrown = 0;
  const groups: string[] = [];
  const crashing = injecting(real, {
    consumer: (consumer, cfg) => {
      groups.push(cfg.groupId);
      const run = consumer.run.bind(consumer);
      consumer.run = (cfg?: ConsumerRunConfig) =>
        run({
          ...cfg,
          eachMessage: async (payload) => {
            if (thrown === 0 && Number(payload.message.offset) >= 1) {
              thrown++;
              throw new KafkaJSNonRetriableError("injected reader failure");
            }
            await cfg!.eachMessage!(payload);
          },
        });
      return consumer;
    },
  });
  await withRegistryOn(crashing, real, async (registry, logs) => {
    const r = await http(registry.url, "POST", "/subjects/crash-value/versions", {
      schema: USER_V1,
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(thrown, 1);
    assert.ok(logs.some((m) => m.includes("starting a new one")), logs.join("\n"));
    assert.equal(groups.length, 2, `one reader, then a new one: ${groups}`);
    assert.notEqual(groups[0], groups[1], "the new reader has a group of its own");
    assert.deepEqual((await http(registry.url, "GET", "/subjects")).body, ["crash-value"]);
  });
});

Deno.test("a request body over the limit is answered 413, declared or streamed", async () => {
  await requireKafka();
  const real = createKafka(config, { clientId: "registry-test-limit", level: logLevel.NOTHING });
  await withRegistryOn(real, real, async (registry) => {
    const big = JSON.stringify({ schema: record("Big", [ID]), pad: "x".repeat(4096) });
    const declared = await http(registry.url, "POST", "/subjects/big-value/versions", big);
    assertError(declared, 413, ErrorCode.PAYLOAD_TOO_LARGE);
    assert.match(declared.body.message, /exceeds 2048 bytes/);
    // No content-length: the body arrives in chunks and is cut off once past the limit.
    const chunks = [big.slice(0, 1500), big.slice(1500)].map((c) => new TextEncoder().encode(c));
    const res = await fetch(`${registry.url}/subjects/big-value/versions`, {
      method: "POST",
      headers: { "content-type": CONTENT_TYPE },
      body: ReadableStream.from(chunks),
    });
    assert.equal(res.status, 413);
    assert.equal((await res.json()).error_code, ErrorCode.PAYLOAD_TOO_LARGE);
    const ok = await http(registry.url, "POST", "/subjects/small-value/versions", {
      schema: USER_V1,
    });
    assert.equal(ok.status, 200, ok.text);
  }, { maxBodyBytes: 2048 });
});

Deno.test("a stuck _schemas send costs each write its timeout (50002), not forever", async () => {
  await requireKafka();
  const real = createKafka(config, { clientId: "registry-test-stuck", level: logLevel.NOTHING });
  // Once `stuck` is set, sends wait (as for a frozen leader) until `unstick()` lets them go on.
  let stuck = false;
  const held: (() => void)[] = [];
  const unstick = () => {
    stuck = false;
    for (const go of held.splice(0)) go();
  };
  const freezing = injecting(real, {
    producer: (producer) => {
      const send = producer.send.bind(producer);
      producer.send = async (record: ProducerRecord) => {
        if (stuck) await new Promise<void>((go) => held.push(go));
        return send(record);
      };
      return producer;
    },
  });
  await withRegistryOn(freezing, real, async (registry) => {
    try {
      stuck = true;
      const timed = async (path: string) => {
        const started = performance.now();
        const reply = await http(registry.url, "POST", path, { schema: USER_V1 });
        return { reply, ms: performance.now() - started };
      };
      // Two writes at once: the first waits on its send, the second on the lock.
      const [first, second] = await withDeadline(
        Promise.all([
          timed("/subjects/stuck-a-value/versions"),
          timed("/subjects/stuck-b-value/versions"),
        ]),
        15_000,
        "two writes behind a stuck send",
      );
      for (const { reply, ms } of [first, second]) {
        assertError(reply, 500, ErrorCode.OPERATION_TIMEOUT);
        assert.ok(ms < 5_000, `answered in ${ms.toFixed(0)} ms (timeout 1000 ms)`);
      }
      assert.equal(held.length, 1, "only the first write's send reached kafkajs");
      // While that send is still held, a write again answers 50002 in bounded time.
      const third = await withDeadline(
        timed("/subjects/stuck-c-value/versions"),
        15_000,
        "a write",
      );
      assertError(third.reply, 500, ErrorCode.OPERATION_TIMEOUT);
      unstick();
      const after = await http(registry.url, "POST", "/subjects/after-value/versions", {
        schema: USER_V1,
      });
      assert.equal(after.status, 200, after.text);
      assert.deepEqual((await http(registry.url, "GET", "/subjects")).body, ["after-value"]);
    } finally {
      unstick(); // a failing run must not leave the send held
    }
  }, { writeTimeoutMs: 1000 });
});

// The conformance suite for whatever SCHEMA_REGISTRY_URL points to lives in
// schema_registry_conformance_test.ts.
