/**
 * Log-end offsets as Kafka's own `GetOffsetShell` reports them (the class
 * behind `kafka-get-offsets.sh`): an independent count of what the brokers
 * hold, owing nothing to kafkajs. Native mode runs it from the brokers' jars
 * with the host's `java`; Docker mode runs the script inside a broker
 * container.
 *
 * @example
 * ```ts
 * import { logEndOffsets } from "./offsets.ts";
 * const ends = await logEndOffsets(
 *   { mode: "native", libs: ".cache/kafka/4.4.0/libs", bootstrap: "127.0.0.1:9092" },
 *   "orders",
 * );
 * console.log([...ends.values()].reduce((a, b) => a + b, 0n));
 * ```
 *
 * @module
 */
import { JavaToolError, runJavaTool } from "../bench/perf_java.ts";
import { stackPaths } from "../stack/paths.ts";

/** The main class of Kafka 4.x's offset tool. */
export const GET_OFFSET_SHELL = "org.apache.kafka.tools.GetOffsetShell";

/** Where `GetOffsetShell` runs. */
export type OffsetShellTarget =
  | { mode: "native"; libs: string; bootstrap: string }
  | { mode: "docker"; service: string; bootstrap: string };

/**
 * The tool's arguments for the latest offsets of exactly `topic` (the tool
 * takes a regular expression, so the name is escaped and anchored).
 *
 * @example
 * ```ts
 * import { offsetShellArgs } from "./offsets.ts";
 * console.log(offsetShellArgs("127.0.0.1:9092", "drill.a-1").join(" "));
 * // --bootstrap-server 127.0.0.1:9092 --topic ^drill\.a-1$ --time -1
 * ```
 */
export function offsetShellArgs(bootstrap: string, topic: string): string[] {
  const pattern = `^${topic.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`;
  return ["--bootstrap-server", bootstrap, "--topic", pattern, "--time", "-1"];
}

/**
 * Parses `topic:partition:offset` lines of `topic` (other output, such as
 * warnings, is ignored). Throws when no line names the topic.
 *
 * @example
 * ```ts
 * import { parseOffsetShell } from "./offsets.ts";
 * const ends = parseOffsetShell("t:0:40\nt:1:35\nWARN something\n", "t");
 * console.log(ends.get(1)); // 35n
 * ```
 */
export function parseOffsetShell(output: string, topic: string): Map<number, bigint> {
  const ends = new Map<number, bigint>();
  for (const line of output.split("\n")) {
    const m = /^(.*):(\d+):(\d+)$/.exec(line.trim());
    if (m && m[1] === topic) ends.set(Number(m[2]), BigInt(m[3]));
  }
  if (ends.size === 0) {
    throw new JavaToolError("GetOffsetShell", `no offsets listed for ${topic}`, output);
  }
  return ends;
}

/**
 * The latest offset of every partition of `topic`, by `GetOffsetShell`.
 *
 * @example
 * ```ts
 * import { logEndOffsets } from "./offsets.ts";
 * await logEndOffsets({ mode: "docker", service: "kafka-1", bootstrap: "kafka-1:29092" }, "t");
 * ```
 */
export async function logEndOffsets(
  target: OffsetShellTarget,
  topic: string,
): Promise<Map<number, bigint>> {
  const args = offsetShellArgs(target.bootstrap, topic);
  if (target.mode === "native") {
    return parseOffsetShell(await runJavaTool(target.libs, GET_OFFSET_SHELL, args), topic);
  }
  const { composeFile } = stackPaths();
  const out = await new Deno.Command("docker", {
    args: [
      "compose",
      "-p",
      "shopstream",
      "-f",
      composeFile,
      "exec",
      "-T",
      target.service,
      "/opt/kafka/bin/kafka-get-offsets.sh",
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + "\n" + new TextDecoder().decode(out.stderr);
  if (!out.success) throw new JavaToolError("kafka-get-offsets.sh", `exit ${out.code}`, text);
  return parseOffsetShell(text, topic);
}
