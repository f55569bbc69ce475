/**
 * Typed configuration: the YAML defaults in `config.defaults.yaml`, each value
 * overridable by one environment variable. Bad values fail at load time with
 * a {@linkcode ConfigError} that names the key, the variable and the fix.
 *
 * @example
 * ```ts
 * import { loadConfig } from "./config.ts";
 * const config = loadConfig();
 * console.log(config.kafka.brokers); // ["127.0.0.1:9092", ...]
 * ```
 *
 * @module
 */
import { parse as parseYaml } from "yaml";

/** Where the local stack comes from: Docker compose, native processes, or whichever works. */
export type StackMode = "auto" | "docker" | "native";

/** The whole configuration, validated and frozen. */
export interface Config {
  /** Kafka brokers, client id, replication defaults and client timeouts. */
  readonly kafka: {
    /** `host:port` of each bootstrap broker. */
    readonly brokers: readonly string[];
    readonly clientId: string;
    /** How many brokers the cluster should have; health fails below this. */
    readonly brokerCount: number;
    readonly replicationFactor: number;
    readonly minInsyncReplicas: number;
    readonly connectionTimeoutMs: number;
    readonly requestTimeoutMs: number;
  };
  /** The Schema Registry's URL and the topic the native registry keeps its state in. */
  readonly schemaRegistry: { readonly url: string; readonly topic: string };
  /** The S3-compatible object store (MinIO) that holds the lake. */
  readonly s3: {
    readonly endpoint: string;
    readonly region: string;
    readonly accessKey: string;
    readonly secretKey: string;
    readonly bucket: string;
  };
  /** The pipeline's topic names. */
  readonly topics: {
    readonly orders: string;
    readonly payments: string;
    readonly shipments: string;
    readonly clickstream: string;
    readonly deadLetter: string;
  };
  /** Client ids of the pipeline's clients, and the sink's consumer group. */
  readonly clients: {
    readonly producer: string;
    readonly sink: string;
    readonly sinkGroup: string;
    readonly admin: string;
  };
  /** The pipeline's metrics endpoint. */
  readonly metrics: {
    /** TCP port of the pipeline's `/metrics` and `/health` endpoint. */
    readonly port: number;
  };
  /** How the local stack runs: mode, versions, UI URLs and controller ports. */
  readonly stack: {
    readonly mode: StackMode;
    readonly kafkaVersion: string;
    readonly minioVersion: string;
    readonly kafkaUiUrl: string;
    readonly minioConsoleUrl: string;
    readonly kafkaControllerPorts: readonly number[];
  };
}

/**
 * A configuration value that cannot be used. `key` is the dotted YAML path,
 * `envVar` the variable that overrides it.
 *
 * @example
 * ```ts
 * import { ConfigError, loadConfig } from "./config.ts";
 * try {
 *   loadConfig({ S3_BUCKET: "Bad_Bucket" });
 * } catch (e) {
 *   if (e instanceof ConfigError) console.log(e.key, e.envVar); // s3.bucket S3_BUCKET
 * }
 * ```
 */
export class ConfigError extends Error {
  /** Names the bad key, its variable and value, what is wrong and how to fix it. */
  constructor(
    readonly key: string,
    readonly envVar: string,
    readonly value: unknown,
    problem: string,
    fix: string,
  ) {
    super(
      `config ${key} (env ${envVar}) = ${JSON.stringify(value)}: ${problem}. Fix: ${fix}`,
    );
    this.name = "ConfigError";
  }
}

/** Checks one raw value and converts it; calls `fail` with the problem and the fix when it is bad. */
export type Parser = (raw: string, fail: (problem: string, fix: string) => never) => unknown;

/** One configuration key: where it lives, which variable overrides it, how it is checked. */
export interface Field {
  /** Dotted path in `config.defaults.yaml`, e.g. `kafka.clientId`. */
  readonly key: string;
  /** The environment variable that overrides it. */
  readonly env: string;
  /** Validates and converts the raw string. */
  readonly parse: Parser;
}

const TOPIC_RE = /^[a-zA-Z0-9._-]{1,249}$/;
const BUCKET_RE = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

const text: Parser = (raw, fail) =>
  raw.trim() === "" ? fail("is empty", "set a non-empty value") : raw.trim();

const positiveInt: Parser = (raw, fail) => {
  const n = Number(raw);
  return Number.isInteger(n) && n > 0 ? n : fail("is not a positive integer", "use e.g. 3");
};

const port = (raw: string, fail: (p: string, f: string) => never): number => {
  const n = Number(raw);
  return Number.isInteger(n) && n > 0 && n < 65536
    ? n
    : fail(`port "${raw}" is not in 1..65535`, "use a TCP port number");
};

const hostPorts: Parser = (raw, fail) => {
  const list = raw.split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (list.length === 0) fail("is empty", "list brokers as host:port,host:port");
  for (const entry of list) {
    const m = /^([^\s:/]+|\[[0-9a-fA-F:]+\]):(\d+)$/.exec(entry);
    if (!m) fail(`"${entry}" is not host:port`, "list brokers as host:port,host:port");
    port(m![2], fail);
  }
  return list;
};

const portList: Parser = (raw, fail) => {
  const list = raw.split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (list.length === 0) fail("is empty", "list ports separated by commas");
  return list.map((p) => port(p, fail));
};

const httpUrl: Parser = (raw, fail) => {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return fail("is not a URL", "use e.g. http://127.0.0.1:8081");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    fail(`has scheme ${url.protocol}`, "use an http:// or https:// URL");
  }
  return raw.trim().replace(/\/+$/, "");
};

const topicName: Parser = (raw, fail) =>
  TOPIC_RE.test(raw.trim()) && raw.trim() !== "." && raw.trim() !== ".."
    ? raw.trim()
    : fail("is not a legal Kafka topic name", "use letters, digits, '.', '_' or '-' (max 249)");

const bucketName: Parser = (raw, fail) =>
  BUCKET_RE.test(raw.trim()) && !raw.includes("..") ? raw.trim() : fail(
    "is not a legal S3 bucket name",
    "use 3-63 lowercase letters, digits, '.' or '-', starting and ending with a letter or digit",
  );

const oneOf = (...allowed: string[]): Parser => (raw, fail) =>
  allowed.includes(raw.trim())
    ? raw.trim()
    : fail("is not allowed", `use one of ${allowed.join(", ")}`);

/** Every configuration key, the variable that overrides it, and how it is checked. */
export const FIELDS: readonly Field[] = [
  { key: "kafka.bootstrapServers", env: "KAFKA_BOOTSTRAP_SERVERS", parse: hostPorts },
  { key: "kafka.clientId", env: "KAFKA_CLIENT_ID", parse: text },
  { key: "kafka.brokerCount", env: "KAFKA_BROKER_COUNT", parse: positiveInt },
  { key: "kafka.replicationFactor", env: "KAFKA_REPLICATION_FACTOR", parse: positiveInt },
  { key: "kafka.minInsyncReplicas", env: "KAFKA_MIN_INSYNC_REPLICAS", parse: positiveInt },
  { key: "kafka.connectionTimeoutMs", env: "KAFKA_CONNECTION_TIMEOUT_MS", parse: positiveInt },
  { key: "kafka.requestTimeoutMs", env: "KAFKA_REQUEST_TIMEOUT_MS", parse: positiveInt },
  { key: "schemaRegistry.url", env: "SCHEMA_REGISTRY_URL", parse: httpUrl },
  { key: "schemaRegistry.topic", env: "SCHEMA_REGISTRY_TOPIC", parse: topicName },
  { key: "s3.endpoint", env: "S3_ENDPOINT", parse: httpUrl },
  { key: "s3.region", env: "S3_REGION", parse: text },
  { key: "s3.accessKey", env: "S3_ACCESS_KEY", parse: text },
  { key: "s3.secretKey", env: "S3_SECRET_KEY", parse: text },
  { key: "s3.bucket", env: "S3_BUCKET", parse: bucketName },
  { key: "topics.orders", env: "TOPIC_ORDERS", parse: topicName },
  { key: "topics.payments", env: "TOPIC_PAYMENTS", parse: topicName },
  { key: "topics.shipments", env: "TOPIC_SHIPMENTS", parse: topicName },
  { key: "topics.clickstream", env: "TOPIC_CLICKSTREAM", parse: topicName },
  { key: "topics.deadLetter", env: "TOPIC_DEAD_LETTER", parse: topicName },
  { key: "clients.producer", env: "CLIENT_ID_PRODUCER", parse: text },
  { key: "clients.sink", env: "CLIENT_ID_SINK", parse: text },
  { key: "clients.sinkGroup", env: "GROUP_ID_SINK", parse: text },
  { key: "clients.admin", env: "CLIENT_ID_ADMIN", parse: text },
  { key: "metrics.port", env: "METRICS_PORT", parse: port },
  { key: "stack.mode", env: "STACK_MODE", parse: oneOf("auto", "docker", "native") },
  { key: "stack.kafkaVersion", env: "KAFKA_VERSION", parse: text },
  { key: "stack.minioVersion", env: "MINIO_VERSION", parse: text },
  { key: "stack.kafkaUiUrl", env: "KAFKA_UI_URL", parse: httpUrl },
  { key: "stack.minioConsoleUrl", env: "MINIO_CONSOLE_URL", parse: httpUrl },
  { key: "stack.kafkaControllerPorts", env: "KAFKA_CONTROLLER_PORTS", parse: portList },
];

/**
 * The environment variables the configuration reads, one per setting.
 *
 * @example
 * ```ts
 * import { CONFIG_ENV } from "./config.ts";
 * console.log(CONFIG_ENV.includes("KAFKA_BOOTSTRAP_SERVERS")); // true
 * ```
 */
export const CONFIG_ENV: readonly string[] = FIELDS.map((f) => f.env);

/**
 * The values of {@linkcode CONFIG_ENV} in the process environment, read one by
 * one: what `loadConfig` needs in a process allowed to read only those
 * variables (`--allow-env=<names>`), where `Deno.env.toObject()` is refused.
 *
 * @example
 * ```ts
 * import { configEnv, loadConfig } from "./config.ts";
 * const config = loadConfig(configEnv());
 * ```
 */
export function configEnv(): Record<string, string | undefined> {
  return Object.fromEntries(CONFIG_ENV.map((name) => [name, Deno.env.get(name)]));
}

/** The defaults file, read once. */
export const DEFAULTS_PATH: URL = new URL("./config.defaults.yaml", import.meta.url);

function lookup(tree: unknown, key: string): unknown {
  let node = tree;
  for (const part of key.split(".")) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/**
 * The defaults YAML as a plain tree (no env applied, not validated).
 *
 * @example
 * ```ts
 * import { readDefaults } from "./config.ts";
 * const tree = readDefaults() as { s3: { bucket: string } };
 * console.log(tree.s3.bucket);
 * ```
 */
export function readDefaults(): Record<string, unknown> {
  return parseYaml(Deno.readTextFileSync(DEFAULTS_PATH)) as Record<string, unknown>;
}

/**
 * Load the configuration: defaults, then the environment, then validation.
 * `env` defaults to the process environment; pass a record to test overrides.
 *
 * @example
 * ```ts
 * import { loadConfig } from "./config.ts";
 * const config = loadConfig({ S3_BUCKET: "my-lake" });
 * console.log(config.s3.bucket); // my-lake
 * ```
 */
export function loadConfig(env: Record<string, string | undefined> = Deno.env.toObject()): Config {
  const defaults = readDefaults();
  const values = new Map<string, unknown>();
  for (const field of FIELDS) {
    const fromEnv = env[field.env];
    const fromYaml = lookup(defaults, field.key);
    const raw = fromEnv !== undefined ? fromEnv : fromYaml;
    const fail = (problem: string, fix: string): never => {
      throw new ConfigError(field.key, field.env, raw, problem, fix);
    };
    if (raw === undefined || raw === null) {
      fail("is missing", `add it to lib/config.defaults.yaml or set ${field.env}`);
    }
    values.set(field.key, field.parse(String(raw), fail));
  }
  const v = <T>(key: string) => values.get(key) as T;
  const config: Config = {
    kafka: {
      brokers: v("kafka.bootstrapServers"),
      clientId: v("kafka.clientId"),
      brokerCount: v("kafka.brokerCount"),
      replicationFactor: v("kafka.replicationFactor"),
      minInsyncReplicas: v("kafka.minInsyncReplicas"),
      connectionTimeoutMs: v("kafka.connectionTimeoutMs"),
      requestTimeoutMs: v("kafka.requestTimeoutMs"),
    },
    schemaRegistry: { url: v("schemaRegistry.url"), topic: v("schemaRegistry.topic") },
    s3: {
      endpoint: v("s3.endpoint"),
      region: v("s3.region"),
      accessKey: v("s3.accessKey"),
      secretKey: v("s3.secretKey"),
      bucket: v("s3.bucket"),
    },
    topics: {
      orders: v("topics.orders"),
      payments: v("topics.payments"),
      shipments: v("topics.shipments"),
      clickstream: v("topics.clickstream"),
      deadLetter: v("topics.deadLetter"),
    },
    clients: {
      producer: v("clients.producer"),
      sink: v("clients.sink"),
      sinkGroup: v("clients.sinkGroup"),
      admin: v("clients.admin"),
    },
    metrics: { port: v("metrics.port") },
    stack: {
      mode: v("stack.mode"),
      kafkaVersion: v("stack.kafkaVersion"),
      minioVersion: v("stack.minioVersion"),
      kafkaUiUrl: v("stack.kafkaUiUrl"),
      minioConsoleUrl: v("stack.minioConsoleUrl"),
      kafkaControllerPorts: v("stack.kafkaControllerPorts"),
    },
  };
  if (config.kafka.minInsyncReplicas > config.kafka.replicationFactor) {
    throw new ConfigError(
      "kafka.minInsyncReplicas",
      "KAFKA_MIN_INSYNC_REPLICAS",
      config.kafka.minInsyncReplicas,
      `exceeds the replication factor ${config.kafka.replicationFactor}, so no acks=all write could succeed`,
      "keep min.insync.replicas below the replication factor (2 of 3 is the usual choice)",
    );
  }
  return deepFreeze(config);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object") {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
