/**
 * compose.yaml is not run here (no Docker engine on CI), so pin what it must
 * agree on: ports, versions, credentials and broker settings match the config
 * defaults and the native stack.
 */
import assert from "node:assert/strict";
import { parse } from "yaml";
import { loadConfig } from "../lib/config.ts";
import { kafkaNodeProperties } from "../lib/stack/native.ts";
import { stackPaths } from "../lib/stack/paths.ts";

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string; args?: Record<string, string> };
  ports?: string[];
  environment?: Record<string, string | number>;
  healthcheck?: { test: string[] };
}

const root = stackPaths().root;
const compose = parse(Deno.readTextFileSync(`${root}/compose.yaml`), { merge: true }) as {
  services: Record<string, Service>;
};
const config = loadConfig({});
const services = compose.services;

function port(url: string): number {
  return Number(new URL(url).port);
}

function hostPorts(s: Service): number[] {
  return (s.ports ?? []).map((p) => Number(p.split(":")[1]));
}

/** `${VAR:-default}` -> default */
function composeDefault(value: string | number | undefined): string {
  const m = /^\$\{[A-Z0-9_]+:-(.*)\}$/.exec(String(value));
  return m ? m[1] : String(value);
}

Deno.test("compose: the expected services, each with a pinned image and a healthcheck", () => {
  assert.deepEqual(
    Object.keys(services).sort(),
    ["kafka-1", "kafka-2", "kafka-3", "kafka-ui", "minio", "schema-registry"],
  );
  for (const [name, s] of Object.entries(services)) {
    assert.ok(s.image, `${name} has an image`);
    assert.match(s.image!, /:[\w.-]+$/, `${name} image has a tag`);
    assert.doesNotMatch(s.image!, /:(latest|main)$/, `${name} image is pinned`);
    assert.ok(s.healthcheck?.test?.length, `${name} has a healthcheck`);
  }
});

Deno.test("compose: every host port is bound to 127.0.0.1 and matches the config", () => {
  for (const [name, s] of Object.entries(services)) {
    for (const p of s.ports ?? []) assert.match(p, /^127\.0\.0\.1:\d+:\d+$/, `${name} ${p}`);
  }
  config.kafka.brokers.forEach((b, i) => {
    assert.deepEqual(hostPorts(services[`kafka-${i + 1}`]), [Number(b.split(":")[1])]);
    const env = services[`kafka-${i + 1}`].environment!;
    assert.match(String(env.KAFKA_ADVERTISED_LISTENERS), new RegExp(`EXTERNAL://${b}(,|$)`));
    assert.equal(env.KAFKA_NODE_ID, i + 1);
  });
  assert.deepEqual(hostPorts(services["schema-registry"]), [port(config.schemaRegistry.url)]);
  assert.deepEqual(hostPorts(services.minio), [
    port(config.s3.endpoint),
    port(config.stack.minioConsoleUrl),
  ]);
  assert.deepEqual(hostPorts(services["kafka-ui"]), [port(config.stack.kafkaUiUrl)]);
});

Deno.test("compose: brokers agree with the native stack on KRaft and durability settings", () => {
  const native = new Map(
    kafkaNodeProperties(config, 1, "/data").split("\n").filter((l) => l.includes("="))
      .map((l) => l.split("=", 2) as [string, string]),
  );
  for (let id = 1; id <= 3; id++) {
    const env = services[`kafka-${id}`].environment!;
    assert.equal(env.KAFKA_PROCESS_ROLES, "broker,controller");
    assert.equal(String(env.KAFKA_CONTROLLER_QUORUM_VOTERS).split(",").length, 3, "quorum of 3");
    for (
      const key of [
        "default.replication.factor",
        "min.insync.replicas",
        "offsets.topic.replication.factor",
        "transaction.state.log.replication.factor",
        "transaction.state.log.min.isr",
        "num.partitions",
        "auto.create.topics.enable",
        "group.initial.rebalance.delay.ms",
        "unclean.leader.election.enable",
      ]
    ) {
      const envName = "KAFKA_" + key.toUpperCase().replaceAll(".", "_");
      assert.equal(String(env[envName]), native.get(key), `${envName} vs native ${key}`);
    }
  }
  assert.equal(native.get("default.replication.factor"), "3");
  assert.equal(native.get("min.insync.replicas"), "2");
});

Deno.test("compose: versions are the ones native mode runs", () => {
  for (let id = 1; id <= 3; id++) {
    assert.equal(services[`kafka-${id}`].image, `apache/kafka:${config.stack.kafkaVersion}`);
  }
  const pom = Deno.readTextFileSync(`${root}/tasks/kafka-pom.xml`);
  assert.match(pom, new RegExp(`<kafka.version>${config.stack.kafkaVersion}</kafka.version>`));
  assert.equal(services.minio.build?.args?.MINIO_VERSION, config.stack.minioVersion);
  const dockerfile = Deno.readTextFileSync(
    `${root}/${services.minio.build!.context}/${services.minio.build!.dockerfile}`,
  );
  assert.match(dockerfile, new RegExp(`ARG MINIO_VERSION=${config.stack.minioVersion}`));
});

Deno.test("compose: MinIO credentials and bucket default to the config's dev values", () => {
  const env = services.minio.environment!;
  assert.equal(composeDefault(env.MINIO_ROOT_USER), config.s3.accessKey);
  assert.equal(composeDefault(env.MINIO_ROOT_PASSWORD), config.s3.secretKey);
  assert.equal(composeDefault(env.S3_BUCKET), config.s3.bucket);
  const sr = services["schema-registry"].environment!;
  assert.equal(sr.SCHEMA_REGISTRY_KAFKASTORE_TOPIC, config.schemaRegistry.topic);
  assert.equal(String(sr.SCHEMA_REGISTRY_KAFKASTORE_TOPIC_REPLICATION_FACTOR), "3");
  const ui = services["kafka-ui"].environment!;
  assert.match(String(ui.KAFKA_CLUSTERS_0_SCHEMAREGISTRY), /schema-registry:8081/);
  assert.equal(String(ui.KAFKA_CLUSTERS_0_BOOTSTRAPSERVERS).split(",").length, 3);
});
