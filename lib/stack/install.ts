/**
 * First-run downloads for native mode, each cached under `.cache/` and keyed by
 * version: the Kafka jars (Maven, from `tasks/kafka-pom.xml`) and the MinIO
 * server (`go install` at a pinned pseudo-version). Progress goes to `log`.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { installKafka, installMinio } from "./install.ts";
 * const config = loadConfig();
 * const libs = await installKafka(config.stack.kafkaVersion, console.log);
 * const minio = await installMinio(config.stack.minioVersion, console.log);
 * ```
 *
 * @module
 */
import { pathExists as exists } from "../util/repo.ts";
import { stackPaths } from "./paths.ts";

/** A missing tool or a failed download, with what to do about it. */
export class InstallError extends Error {
  /** An error with this message. */
  constructor(message: string) {
    super(message);
    this.name = "InstallError";
  }
}

/**
 * Throws {@linkcode InstallError} naming the package to install when `program` is not on PATH.
 *
 * @example
 * ```ts
 * import { requireProgram } from "./install.ts";
 * await requireProgram("java", ["-version"], "a JDK 17+ (apt-get install openjdk-17-jdk-headless)");
 * ```
 */
export async function requireProgram(program: string, args: string[], what: string): Promise<void> {
  try {
    const out = await new Deno.Command(program, { args, stdout: "null", stderr: "null" }).output();
    if (out.success) return;
  } catch { /* not found */ }
  throw new InstallError(`native mode needs \`${program}\`: install ${what}, or use Docker mode`);
}

/** Runs a command, streaming its output lines to `onLine`; throws with the tail on failure. */
async function runStreaming(
  cmd: string,
  args: string[],
  env: Record<string, string>,
  onLine: (line: string) => void,
  what: string,
): Promise<void> {
  const child = new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" }).spawn();
  const tail: string[] = [];
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    let buf = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      buf += chunk;
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        tail.push(line);
        if (tail.length > 30) tail.shift();
        onLine(line);
      }
    }
    if (buf) onLine(buf);
  };
  const [status] = await Promise.all([child.status, pump(child.stdout), pump(child.stderr)]);
  if (!status.success) {
    throw new InstallError(`${what} failed (exit ${status.code}):\n${tail.join("\n")}`);
  }
}

/**
 * Fetches the Kafka jars for `version` into `.cache/kafka/<version>/libs` unless
 * present; returns the libs folder.
 *
 * @example
 * ```ts
 * import { installKafka } from "./install.ts";
 * const libs = await installKafka("4.4.0", console.log);
 * ```
 */
export async function installKafka(version: string, log: (line: string) => void): Promise<string> {
  const paths = stackPaths();
  const libs = `${paths.kafka}/${version}/libs`;
  if (await exists(`${libs}/kafka_2.13-${version}.jar`)) return libs;
  await requireProgram("java", ["-version"], "a JDK 17+ (apt-get install openjdk-17-jdk-headless)");
  await requireProgram("mvn", ["-v"], "Maven (apt-get install maven)");
  const tmp = `${libs}.partial`;
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
  log(
    `kafka: fetching Apache Kafka ${version} jars from Maven Central (about 55 MB, first run only)`,
  );
  let count = 0;
  const started = Date.now();
  await runStreaming(
    "mvn",
    [
      "-B",
      "-f",
      paths.kafkaPom,
      `-Dkafka.version=${version}`,
      "dependency:copy-dependencies",
      `-DoutputDirectory=${tmp}`,
      "-DincludeScope=runtime",
    ],
    {},
    (line) => {
      if (/^Downloaded from/.test(line)) {
        count++;
        if (count % 20 === 0) log(`kafka: ${count} artifacts downloaded...`);
      }
    },
    `mvn dependency:copy-dependencies for Kafka ${version}`,
  );
  await Deno.remove(libs, { recursive: true }).catch(() => {});
  await Deno.rename(tmp, libs);
  const jars = [...Deno.readDirSync(libs)].filter((e) => e.name.endsWith(".jar")).length;
  log(`kafka: ${jars} jars ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return libs;
}

/**
 * Builds the MinIO server at `version` with `go install` into
 * `.cache/minio/<version>/bin/minio` unless present (about 2 minutes on 2
 * cores with an empty Go cache); returns the binary path.
 *
 * @example
 * ```ts
 * import { installMinio } from "./install.ts";
 * const bin = await installMinio("v0.0.0-20260212201848-7aac2a2c5b7c", console.log);
 * ```
 */
export async function installMinio(version: string, log: (line: string) => void): Promise<string> {
  const paths = stackPaths();
  const bin = `${paths.minio}/${version}/bin`;
  if (await exists(`${bin}/minio`)) return `${bin}/minio`;
  await requireProgram("go", ["version"], "Go 1.24+ (https://go.dev/doc/install)");
  log(
    `minio: building github.com/minio/minio@${version} with go install (about 2 min on 2 cores, first run only)`,
  );
  const started = Date.now();
  let count = 0;
  // go prints nothing while it compiles: say every 30 s that it is still working.
  const ticker = setInterval(() => {
    log(`minio: still downloading/compiling (${((Date.now() - started) / 1000).toFixed(0)} s)...`);
  }, 30_000);
  try {
    await runStreaming(
      "go",
      ["install", `github.com/minio/minio@${version}`],
      { GOBIN: bin, CGO_ENABLED: "0" },
      (line) => {
        if (/^go: downloading/.test(line)) {
          count++;
          if (count % 50 === 0) log(`minio: ${count} modules downloaded...`);
        }
      },
      `go install github.com/minio/minio@${version}`,
    );
  } finally {
    clearInterval(ticker);
  }
  log(`minio: built in ${((Date.now() - started) / 1000).toFixed(0)} s (${count} modules fetched)`);
  return `${bin}/minio`;
}
