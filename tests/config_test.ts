/**
 * The typed config (lib/config.ts): the defaults of lib/config.defaults.yaml,
 * one distinct environment variable per field that overrides it, and every
 * bad value failing at load with the key, the variable and the fix. No
 * services.
 */
import assert from "node:assert/strict";
import { ConfigError, FIELDS, loadConfig, readDefaults } from "../lib/config.ts";

Deno.test("config: defaults load and describe the local stack", () => {
  const c = loadConfig({});
  assert.deepEqual(c.kafka.brokers, ["127.0.0.1:9092", "127.0.0.1:9093", "127.0.0.1:9094"]);
  assert.equal(c.kafka.brokerCount, 3);
  assert.equal(c.kafka.replicationFactor, 3);
  assert.equal(c.kafka.minInsyncReplicas, 2);
  assert.equal(c.schemaRegistry.url, "http://127.0.0.1:8081");
  assert.equal(c.schemaRegistry.topic, "_schemas");
  assert.equal(c.s3.endpoint, "http://127.0.0.1:9000");
  assert.equal(c.s3.bucket, "shopstream-lake");
  assert.equal(c.stack.mode, "auto");
  assert.deepEqual(c.stack.kafkaControllerPorts, [19093, 19094, 19095]);
  assert.equal(c.metrics.port, 9464);
  assert.ok(Object.isFrozen(c) && Object.isFrozen(c.kafka) && Object.isFrozen(c.kafka.brokers));
});

Deno.test("config: every field has a default in the YAML and a distinct env variable", () => {
  const tree = readDefaults();
  const envs = new Set<string>();
  for (const f of FIELDS) {
    let node: unknown = tree;
    for (const part of f.key.split(".")) node = (node as Record<string, unknown>)[part];
    assert.notEqual(node, undefined, `${f.key} has no default`);
    assert.ok(!envs.has(f.env), `${f.env} used twice`);
    envs.add(f.env);
  }
});

Deno.test("config: environment variables override defaults", async (t) => {
  await t.step("kafka, registry and s3", () => {
    const c = loadConfig({
      KAFKA_BOOTSTRAP_SERVERS: " kafka-a:19092 , kafka-b:19092 ",
      SCHEMA_REGISTRY_URL: "https://registry.example:8443/",
      S3_ENDPOINT: "http://minio:9000",
      S3_ACCESS_KEY: "key",
      S3_SECRET_KEY: "secret",
      S3_BUCKET: "other-lake",
      KAFKA_CLIENT_ID: "course",
    });
    assert.deepEqual(c.kafka.brokers, ["kafka-a:19092", "kafka-b:19092"]);
    assert.equal(c.schemaRegistry.url, "https://registry.example:8443", "trailing slash dropped");
    assert.equal(c.s3.endpoint, "http://minio:9000");
    assert.equal(c.s3.accessKey, "key");
    assert.equal(c.s3.secretKey, "secret");
    assert.equal(c.s3.bucket, "other-lake");
    assert.equal(c.kafka.clientId, "course");
  });
  await t.step("numbers, topics, modes and lists", () => {
    const c = loadConfig({
      KAFKA_BROKER_COUNT: "1",
      KAFKA_REPLICATION_FACTOR: "1",
      KAFKA_MIN_INSYNC_REPLICAS: "1",
      TOPIC_ORDERS: "orders.v2",
      STACK_MODE: "native",
      KAFKA_CONTROLLER_PORTS: "29093",
      METRICS_PORT: "19464",
      KAFKA_BOOTSTRAP_SERVERS: "[::1]:9092",
    });
    assert.equal(c.kafka.brokerCount, 1);
    assert.equal(c.topics.orders, "orders.v2");
    assert.equal(c.stack.mode, "native");
    assert.deepEqual(c.stack.kafkaControllerPorts, [29093]);
    assert.equal(c.metrics.port, 19464);
    assert.deepEqual(c.kafka.brokers, ["[::1]:9092"]);
  });
});

Deno.test("config: bad values fail at load, naming the key, the variable and the fix", async (t) => {
  const cases: [Record<string, string>, string, string, RegExp][] = [
    [
      { KAFKA_BOOTSTRAP_SERVERS: "localhost" },
      "kafka.bootstrapServers",
      "KAFKA_BOOTSTRAP_SERVERS",
      /host:port/,
    ],
    [
      { KAFKA_BOOTSTRAP_SERVERS: "h:99999" },
      "kafka.bootstrapServers",
      "KAFKA_BOOTSTRAP_SERVERS",
      /1\.\.65535/,
    ],
    [
      { KAFKA_BOOTSTRAP_SERVERS: " , " },
      "kafka.bootstrapServers",
      "KAFKA_BOOTSTRAP_SERVERS",
      /empty/,
    ],
    [{ SCHEMA_REGISTRY_URL: "registry:8081" }, "schemaRegistry.url", "SCHEMA_REGISTRY_URL", /http/],
    [{ S3_ENDPOINT: "not a url" }, "s3.endpoint", "S3_ENDPOINT", /not a URL/],
    [{ S3_BUCKET: "Bad_Bucket" }, "s3.bucket", "S3_BUCKET", /lowercase/],
    [{ S3_SECRET_KEY: "  " }, "s3.secretKey", "S3_SECRET_KEY", /empty/],
    [
      { KAFKA_BROKER_COUNT: "three" },
      "kafka.brokerCount",
      "KAFKA_BROKER_COUNT",
      /positive integer/,
    ],
    [
      { KAFKA_REPLICATION_FACTOR: "0" },
      "kafka.replicationFactor",
      "KAFKA_REPLICATION_FACTOR",
      /positive integer/,
    ],
    [{ TOPIC_ORDERS: "orders/eu" }, "topics.orders", "TOPIC_ORDERS", /topic name/],
    [{ STACK_MODE: "podman" }, "stack.mode", "STACK_MODE", /auto, docker, native/],
    [
      { KAFKA_MIN_INSYNC_REPLICAS: "4" },
      "kafka.minInsyncReplicas",
      "KAFKA_MIN_INSYNC_REPLICAS",
      /replication factor/,
    ],
  ];
  for (const [env, key, envVar, fix] of cases) {
    await t.step(`${Object.entries(env)[0].join("=")}`, () => {
      assert.throws(() => loadConfig(env), (e: unknown) => {
        assert.ok(e instanceof ConfigError, `expected ConfigError, got ${e}`);
        assert.equal(e.key, key);
        assert.equal(e.envVar, envVar);
        assert.match(
          e.message,
          new RegExp(`config ${key.replace(".", "\\.")} \\(env ${envVar}\\)`),
        );
        assert.match(e.message, /Fix: /);
        assert.match(e.message, fix);
        return true;
      });
    });
  }
});
