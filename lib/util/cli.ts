/**
 * The command-line shape every task shares: strict flags, a mistake printed
 * with the usage text (exit 2), `--help` printed (exit 0), then the work.
 *
 * @example
 * ```ts
 * import { parseFlags, runCommand } from "./cli.ts";
 * const usage = "usage: deno task hello [--name N]";
 * const code = await runCommand("hello", usage, ["--name", "Ada"], (args) =>
 *   parseFlags({ args, options: { name: { type: "string" } } }).values, async (flags) => {
 *   console.log(`hello ${flags.name ?? "world"}`);
 *   return 0;
 * });
 * ```
 *
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";

/**
 * A command-line mistake; {@linkcode runCommand} prints it with the usage and
 * returns exit status 2.
 *
 * @example
 * ```ts
 * import { UsageError } from "./cli.ts";
 * function requireTopic(topic?: string): string {
 *   if (!topic) throw new UsageError("--topic is required");
 *   return topic;
 * }
 * console.log(requireTopic("orders"));
 * ```
 */
export class UsageError extends Error {
  /** An error with this message. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * `node:util`'s `parseArgs` (strict unless `config.strict` says otherwise),
 * with its errors turned into {@linkcode UsageError}.
 *
 * @example
 * ```ts
 * import { parseFlags } from "./cli.ts";
 * const { values } = parseFlags({ args: ["--records", "5"], options: { records: { type: "string" } } });
 * console.log(values.records); // "5"
 * ```
 */
export function parseFlags<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs<T>(config);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** Whether `args` ask for help (`--help` or `-h` before a `--`). */
function wantsHelp(args: readonly string[]): boolean {
  const end = args.indexOf("--");
  return (end === -1 ? args : args.slice(0, end)).some((a) => a === "--help" || a === "-h");
}

/**
 * Runs one command: prints `usage` and returns 0 for `--help`; parses `args`
 * with `parse`, and on a {@linkcode UsageError} prints `<name>: <mistake>`
 * and the usage to stderr and returns 2; otherwise returns what `run` returns.
 *
 * @example
 * ```ts
 * import { runCommand, UsageError } from "./cli.ts";
 * const code = await runCommand("demo", "usage: demo <n>", ["x"], ([n]) => {
 *   if (!/^\d+$/.test(n ?? "")) throw new UsageError(`<n> must be a number, got "${n}"`);
 *   return Number(n);
 * }, (n) => Promise.resolve(n > 0 ? 0 : 1));
 * console.log(code); // 2
 * ```
 */
export async function runCommand<T>(
  name: string,
  usage: string,
  args: string[],
  parse: (args: string[]) => T,
  run: (options: T) => Promise<number>,
): Promise<number> {
  if (wantsHelp(args)) {
    console.log(usage);
    return 0;
  }
  let options: T;
  try {
    options = parse(args);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`${name}: ${e.message}\n\n${usage}`);
    return 2;
  }
  return await run(options);
}

/**
 * A whole number flag, with bounds.
 *
 * @example
 * ```ts
 * import { parseIntFlag } from "./cli.ts";
 * console.log(parseIntFlag("3", "--partitions", 1)); // 3
 * ```
 */
export function parseIntFlag(
  text: string | undefined,
  flag: string,
  min = 0,
  fallback?: number,
): number | undefined {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) {
    throw new UsageError(`${flag} must be a whole number >= ${min}, got "${text}"`);
  }
  return n;
}
