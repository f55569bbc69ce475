/**
 * Running one of Kafka's own Java tools (the classes behind the `kafka-*.sh`
 * scripts) from the brokers' jars, with the host's `java`: the benchmarks,
 * the drills and the quorum check all go through {@linkcode runJavaTool}.
 *
 * @example
 * ```ts
 * import { javaAvailable, runJavaTool } from "./java.ts";
 * if (await javaAvailable()) {
 *   const out = await runJavaTool(".cache/kafka/4.4.0/libs", "org.apache.kafka.tools.MetadataQuorumCommand", [
 *     "--bootstrap-server", "127.0.0.1:9092", "describe", "--status",
 *   ]);
 *   console.log(out);
 * }
 * ```
 *
 * @module
 */

/**
 * A Java tool failed or printed nothing we recognise; the message carries the
 * end of its output.
 *
 * @example
 * ```ts
 * import { JavaToolError } from "./java.ts";
 * const e = new JavaToolError("GetOffsetShell", "exited with code 1", "Exception in thread main");
 * console.error(e.message);
 * ```
 */
export class JavaToolError extends Error {
  /** Builds the error and its message. */
  constructor(tool: string, detail: string, output: string) {
    const tail = output.trim().split("\n").slice(-15).join("\n");
    super(
      `${tool}: ${detail}. Is Java 17+ installed and the stack up (deno task health)?\n${tail}`,
    );
    this.name = "JavaToolError";
  }
}

/**
 * Whether a `java` binary answers `java -version` (Docker-mode learners may
 * have none; the Java side of a benchmark is then skipped).
 *
 * @example
 * ```ts
 * import { javaAvailable } from "./java.ts";
 * console.log(await javaAvailable() ? "both sides" : "ours only");
 * ```
 */
export async function javaAvailable(): Promise<boolean> {
  try {
    const out = await new Deno.Command("java", {
      args: ["-version"],
      stdout: "null",
      stderr: "null",
    })
      .output();
    return out.success;
  } catch {
    return false;
  }
}

const LOG4J2 = [
  "status = error",
  "appender.err.type = Console",
  "appender.err.name = STDERR",
  "appender.err.target = SYSTEM_ERR",
  "appender.err.layout.type = PatternLayout",
  "appender.err.layout.pattern = [java %p] %c: %m%n",
  "rootLogger.level = warn",
  "rootLogger.appenderRef.err.ref = STDERR",
  "",
].join("\n");

/** Options for {@linkcode runJavaTool}. */
export interface JavaToolOptions {
  /** Kill the JVM and throw {@linkcode JavaToolError} after this long (default: no limit). */
  timeoutMs?: number;
}

/**
 * Runs one of Kafka's Java tools with warnings on stderr only; returns its
 * combined output. Throws {@linkcode JavaToolError} on a non-zero exit or
 * when `timeoutMs` passes first.
 *
 * @example
 * ```ts
 * import { runJavaTool } from "./java.ts";
 * const out = await runJavaTool(
 *   ".cache/kafka/4.4.0/libs",
 *   "org.apache.kafka.tools.ConsumerPerformance",
 *   ["--help"],
 *   { timeoutMs: 30_000 },
 * );
 * ```
 */
export async function runJavaTool(
  libs: string,
  mainClass: string,
  args: string[],
  options: JavaToolOptions = {},
): Promise<string> {
  const log4j = await Deno.makeTempFile({
    prefix: "shopstream-java-log4j2-",
    suffix: ".properties",
  });
  const signal = options.timeoutMs === undefined
    ? undefined
    : AbortSignal.timeout(options.timeoutMs);
  try {
    await Deno.writeTextFile(log4j, LOG4J2);
    const out = await new Deno.Command("java", {
      args: [
        "-Xmx512m",
        `-Dlog4j2.configurationFile=${log4j}`,
        "-cp",
        `${libs}/*`,
        mainClass,
        ...args,
      ],
      stdout: "piped",
      stderr: "piped",
      signal,
    }).output().catch((e) => {
      throw new JavaToolError(mainClass, `could not start java (${(e as Error).message})`, "");
    });
    const text = new TextDecoder().decode(out.stdout) + "\n" +
      new TextDecoder().decode(out.stderr);
    if (signal?.aborted) {
      throw new JavaToolError(mainClass, `no answer within ${options.timeoutMs} ms`, text);
    }
    if (!out.success) throw new JavaToolError(mainClass, `exited with code ${out.code}`, text);
    return text;
  } finally {
    await Deno.remove(log4j).catch(() => {});
  }
}
