/**
 * The one command-line helper every task uses: flags declared with a type
 * (`string`, `int`, `number`, `boolean`), allowed values, bounds and
 * defaults; positional arguments; subcommands. `--help` / `-h` prints the
 * usage (exit 0); a mistake prints `<task>: <mistake>` and the usage to
 * stderr (exit 2), naming the flag; nothing runs before the command line is
 * understood, so `--help` needs no stack.
 *
 * @example
 * ```ts
 * import { defineCli } from "./cli.ts";
 * const cli = defineCli({
 *   name: "hello",
 *   usage: "usage: deno task hello [--name N] [--times N]",
 *   flags: {
 *     name: { type: "string", default: "world" },
 *     times: { type: "int", min: 1, default: 1 },
 *   },
 * });
 * const code = await cli.run(["--times", "2"], ({ values }) => {
 *   for (let i = 0; i < values.times; i++) console.log(`hello ${values.name}`);
 *   return Promise.resolve(0);
 * });
 * console.log(code); // 0
 * ```
 *
 * @module
 */

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
 * Thrown by the parsers when the command line asks for `--help` or `-h`;
 * {@linkcode runCommand} prints the usage and returns 0.
 *
 * @example
 * ```ts
 * import { HelpRequested, parseFlags } from "./cli.ts";
 * try {
 *   parseFlags(["--help"], { flags: {} });
 * } catch (e) {
 *   console.log(e instanceof HelpRequested); // true
 * }
 * ```
 */
export class HelpRequested extends Error {
  constructor() {
    super("help requested");
    this.name = "HelpRequested";
  }
}

/** What a flag's value is: text, a whole number, any finite number, or on/off. */
export type FlagType = "string" | "int" | "number" | "boolean";

/**
 * One declared flag. The name is the key in {@linkcode FlagSpecs}
 * (`"max-messages"` is `--max-messages`).
 *
 * @example
 * ```ts
 * import type { FlagSpec } from "./cli.ts";
 * const runs: FlagSpec = { type: "int", min: 1, default: 1 };
 * const mode: FlagSpec = { type: "string", choices: ["auto", "docker", "native"] };
 * console.log(runs.type, mode.choices);
 * ```
 */
export interface FlagSpec {
  /** The value type: text, whole number, number or a switch. */
  readonly type: FlagType;
  /** A one-letter alias (`-n`); `-h` is always help. */
  readonly short?: string;
  /** Repeatable; the values come as an array in command-line order. */
  readonly multiple?: boolean;
  /** A mistake when absent (`--topic is required`). */
  readonly required?: boolean;
  /** The value when absent (booleans default to false, repeatable flags to `[]`). */
  readonly default?: string | number | boolean;
  /** The only values a `string` flag accepts. */
  readonly choices?: readonly string[];
  /** Smallest value of an `int` or `number` flag (inclusive). */
  readonly min?: number;
  /** Largest value of an `int` or `number` flag (inclusive). */
  readonly max?: number;
  /** The value of an `int` or `number` flag must be above this (exclusive). */
  readonly above?: number;
  /** Internal (e.g. a child process's switch): left out of the usage text. */
  readonly hidden?: boolean;
}

/** Declared flags by name. */
export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

/**
 * The positional arguments a command takes: `name` appears in mistakes
 * (`missing <topic>`); `min` defaults to 0, `max` to no limit. Without an
 * `ArgsSpec` a command takes none.
 */
export interface ArgsSpec {
  /** Shown in mistakes, e.g. `missing <topic>`. */
  readonly name: string;
  /** The fewest arguments (default 0). */
  readonly min?: number;
  /** The most arguments (default no limit). */
  readonly max?: number;
}

/** One subcommand: its own flags (beside the shared ones) and arguments. */
export interface SubcommandSpec {
  /** Flags of this subcommand, beside the shared ones. */
  readonly flags?: FlagSpecs;
  /** Its positional arguments; none when absent. */
  readonly args?: ArgsSpec;
  /**
   * Everything after the command word is left unparsed in `rest` (for a
   * dispatcher whose subcommands parse their own flags, e.g. `bench <name>`).
   */
  readonly rest?: boolean;
}

/** Subcommands by name; a name may have two words (`"topics create"`). */
export type SubcommandSpecs = Readonly<Record<string, SubcommandSpec>>;

/** The value type of one occurrence of a flag. */
export type Scalar<F> = F extends { readonly type: "boolean" } ? boolean
  : F extends { readonly type: "int" | "number" } ? number
  : F extends { readonly choices: readonly (infer C extends string)[] } ? C
  : string;

/** The parsed value of one declared flag. */
export type FlagValue<F> = F extends { readonly multiple: true } ? Scalar<F>[]
  : F extends { readonly type: "boolean" } ? boolean
  : F extends { readonly default: string | number | boolean } ? Scalar<F>
  : F extends { readonly required: true } ? Scalar<F>
  : Scalar<F> | undefined;

/** The parsed values of declared flags, typed from their declarations. */
export type FlagValues<S> = { -readonly [K in keyof S]: FlagValue<S[K]> };

/** The flags a subcommand declares. */
export type FlagsOf<C> = C extends { readonly flags: infer F extends FlagSpecs } ? F
  : Record<never, never>;

/** What {@linkcode parseFlags} returns. */
export interface ParsedFlags<S> {
  /** The flags' values, typed from their declarations. */
  values: FlagValues<S>;
  /** Positional arguments (everything after `--` included). */
  args: string[];
  /** With `passThrough`: every argument that is not ours, in order. */
  rest: string[];
}

/** What {@linkcode parseCommand} returns: one shape per subcommand. */
export type ParsedCommand<S, C> = {
  [K in keyof C & string]: {
    command: K;
    values: FlagValues<S & FlagsOf<C[K]>>;
    /** Positional arguments after the command words. */
    args: string[];
    /** With a `rest` subcommand: the arguments after its word, unparsed. */
    rest: string[];
  };
}[keyof C & string];

/** A command line without subcommands. */
export interface FlagsSpec<S extends FlagSpecs = FlagSpecs> {
  /** The declared flags. */
  readonly flags?: S;
  /** Its positional arguments; none when absent. */
  readonly args?: ArgsSpec;
  /**
   * Unknown flags and positional arguments are not mistakes but collected in
   * `rest` (for a wrapper that hands them to another program); only `--help`
   * and `-h` before a `--` are ours, and a first `--` is dropped.
   */
  readonly passThrough?: boolean;
}

/** A command line with subcommands. */
export interface CommandsSpec<
  S extends FlagSpecs = FlagSpecs,
  C extends SubcommandSpecs = SubcommandSpecs,
> {
  /** Flags every subcommand takes. */
  readonly flags?: S;
  /** The subcommands by name. */
  readonly commands: C;
  /** The subcommand when the command line names none (else a mistake). */
  readonly defaultCommand?: keyof C & string;
  /** What a subcommand is called in mistakes: "name a drill: ..." (default "command"). */
  readonly label?: string;
}

/**
 * `["a", "b", "c"]` as `a, b or c`.
 *
 * @example
 * ```ts
 * import { orList } from "./cli.ts";
 * console.log(orList(["auto", "docker", "native"])); // auto, docker or native
 * ```
 */
export function orList(items: readonly string[]): string {
  return items.length <= 1
    ? items.join("")
    : `${items.slice(0, -1).join(", ")} or ${items[items.length - 1]}`;
}

const INT = /^[+-]?\d+$/;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function bounds(spec: FlagSpec): string {
  const parts = [];
  if (spec.above !== undefined) parts.push(`> ${spec.above}`);
  if (spec.min !== undefined && spec.max !== undefined) {
    parts.push(`in ${spec.min}..${spec.max}`);
  } else if (spec.min !== undefined) parts.push(`>= ${spec.min}`);
  else if (spec.max !== undefined) parts.push(`<= ${spec.max}`);
  return parts.length ? ` ${parts.join(" and ")}` : "";
}

/** The typed value of `text` for a flag, or the mistake (naming `shown`). */
function convert(spec: FlagSpec, shown: string, text: string): { value?: unknown; error?: string } {
  if (spec.type === "string") {
    if (spec.choices && !spec.choices.includes(text)) {
      return { error: `${shown} must be ${orList(spec.choices)}, got "${text}"` };
    }
    return { value: text };
  }
  const whole = spec.type === "int";
  const n = (whole ? INT : NUMBER).test(text.trim()) ? Number(text) : NaN;
  const inRange = Number.isFinite(n) && (!whole || Number.isSafeInteger(n)) &&
    (spec.min === undefined || n >= spec.min) && (spec.max === undefined || n <= spec.max) &&
    (spec.above === undefined || n > spec.above);
  if (!inRange) {
    return {
      error: `${shown} must be ${whole ? "a whole number" : "a number"}${
        bounds(spec)
      }, got "${text}"`,
    };
  }
  return { value: n };
}

interface Scan {
  values: Record<string, unknown>;
  positionals: string[];
  rest: string[];
  errors: string[];
  help: boolean;
}

/**
 * One pass over `tokens`: flags by `flags`; unknown flags are mistakes (or
 * collected in `rest` when `passThrough`). Help is noted, never an error, so
 * `--nope --help` still prints the usage.
 */
function scan(tokens: readonly string[], flags: FlagSpecs, passThrough = false): Scan {
  const shorts = new Map<string, string>();
  for (const [name, spec] of Object.entries(flags)) if (spec.short) shorts.set(spec.short, name);
  const out: Scan = { values: {}, positionals: [], rest: [], errors: [], help: false };
  const positional = (t: string) => (passThrough ? out.rest : out.positionals).push(t);
  let ended = false;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (ended) {
      positional(t);
      continue;
    }
    if (t === "--") {
      ended = true;
      continue;
    }
    if (t === "--help" || t === "-h") {
      out.help = true;
      continue;
    }
    let name: string | undefined;
    let shown: string;
    let inline: string | undefined;
    if (t.startsWith("--")) {
      const eq = t.indexOf("=");
      shown = eq < 0 ? t : t.slice(0, eq);
      inline = eq < 0 ? undefined : t.slice(eq + 1);
      name = shown.slice(2);
      if (!(name in flags)) name = undefined;
    } else if (t.length > 1 && t.startsWith("-") && !NUMBER.test(t)) {
      shown = t.slice(0, 2);
      inline = t.length > 2 ? t.slice(t[2] === "=" ? 3 : 2) : undefined;
      name = shorts.get(t[1]);
    } else {
      positional(t);
      continue;
    }
    if (name === undefined) {
      if (passThrough) out.rest.push(t);
      else out.errors.push(`unknown flag ${shown}`);
      continue;
    }
    const spec = flags[name];
    let value: unknown = true;
    if (spec.type === "boolean") {
      if (inline !== undefined) {
        out.errors.push(`${shown} takes no value`);
        continue;
      }
    } else {
      let text = inline;
      if (text === undefined) {
        const next = tokens[i + 1];
        if (next !== undefined && !next.startsWith("--") && next !== "-h") {
          text = next;
          i++;
        }
      }
      if (text === undefined) {
        out.errors.push(`${shown} needs a value`);
        continue;
      }
      const r = convert(spec, shown, text);
      if (r.error) {
        out.errors.push(r.error);
        continue;
      }
      value = r.value;
    }
    if (spec.multiple) ((out.values[name] ??= []) as unknown[]).push(value);
    else out.values[name] = value;
  }
  return out;
}

/** Defaults, required flags, argument counts; throws help or the first mistake. */
function finish(
  s: Scan,
  flags: FlagSpecs,
  args: ArgsSpec | undefined,
  positionals: string[],
): Record<string, unknown> {
  if (s.help) throw new HelpRequested();
  if (s.errors.length) throw new UsageError(s.errors[0]);
  const values = { ...s.values };
  for (const [name, spec] of Object.entries(flags)) {
    if (name in values) continue;
    if (spec.required) throw new UsageError(`--${name} is required`);
    if (spec.multiple) values[name] = [];
    else if (spec.default !== undefined) values[name] = spec.default;
    else if (spec.type === "boolean") values[name] = false;
    else values[name] = undefined;
  }
  const min = args?.min ?? 0;
  const max = args ? args.max ?? Infinity : 0;
  if (positionals.length < min) throw new UsageError(`missing ${args!.name}`);
  if (positionals.length > max) throw new UsageError(`unexpected argument "${positionals[max]}"`);
  return values;
}

/**
 * Parses a command line without subcommands; throws {@linkcode HelpRequested}
 * for `--help`/`-h` and {@linkcode UsageError} for the first mistake.
 *
 * @example
 * ```ts
 * import { parseFlags } from "./cli.ts";
 * const { values, args } = parseFlags(["--records", "5", "a.txt"], {
 *   flags: { records: { type: "int", min: 1 }, keep: { type: "boolean" } },
 *   args: { name: "<file>", max: 1 },
 * });
 * console.log(values.records, values.keep, args); // 5 false ["a.txt"]
 * ```
 */
export function parseFlags<const S extends FlagSpecs = Record<never, never>>(
  args: readonly string[],
  spec: FlagsSpec<S>,
): ParsedFlags<S> {
  const flags: FlagSpecs = spec.flags ?? {};
  const s = scan(args, flags, spec.passThrough);
  const values = finish(s, flags, spec.args, s.positionals);
  return { values: values as FlagValues<S>, args: s.positionals, rest: s.rest };
}

/** Every flag name any subcommand (or all) declares, with its owners. */
function allFlags(
  spec: CommandsSpec,
): { union: Record<string, FlagSpec>; owners: Map<string, string[]> } {
  const union: Record<string, FlagSpec> = { ...spec.flags };
  const owners = new Map<string, string[]>();
  for (const [command, sub] of Object.entries(spec.commands)) {
    for (const [name, flag] of Object.entries(sub.flags ?? {})) {
      union[name] ??= flag;
      const list = owners.get(name) ?? [];
      list.push(command);
      owners.set(name, list);
      if (flag.short) owners.set(`-${flag.short}`, list);
      owners.set(`--${name}`, list);
    }
  }
  return { union, owners };
}

/**
 * Finds the subcommand: the leading positional words that name one (flags
 * are skipped, with their values, by any subcommand's declaration).
 */
function findCommand(
  tokens: readonly string[],
  names: readonly string[],
  union: FlagSpecs,
): { words: string[]; command?: string; end: number } {
  const shorts = new Map<string, FlagSpec>();
  for (const spec of Object.values(union)) if (spec.short) shorts.set(spec.short, spec);
  const words: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t === "--") break;
    if (t.startsWith("-") && t.length > 1 && !NUMBER.test(t)) {
      const spec = t.startsWith("--")
        ? union[t.slice(2)]
        : t.length === 2
        ? shorts.get(t[1])
        : undefined;
      const next = tokens[i + 1];
      if (
        spec && spec.type !== "boolean" && !t.includes("=") && next !== undefined &&
        !next.startsWith("--")
      ) i++;
      continue;
    }
    words.push(t);
    const said = words.join(" ");
    if (names.includes(said) && !names.some((n) => n.startsWith(`${said} `))) {
      return { words, command: said, end: i + 1 };
    }
    if (!names.some((n) => n.startsWith(`${said} `))) break;
  }
  return { words, end: -1 };
}

/**
 * Parses a command line with subcommands (`stack up --mode native`,
 * `admin topics create orders --partitions 6`); throws
 * {@linkcode HelpRequested} or {@linkcode UsageError} like
 * {@linkcode parseFlags}. A flag of another subcommand is a mistake that
 * says whose flag it is.
 *
 * @example
 * ```ts
 * import { parseCommand } from "./cli.ts";
 * const parsed = parseCommand(["logs", "kafka-1", "-n", "20"], {
 *   commands: {
 *     up: { flags: { mode: { type: "string", choices: ["docker", "native"] } } },
 *     logs: { flags: { n: { type: "int", short: "n", min: 1, default: 100 } }, args: { name: "<service>", min: 1, max: 1 } },
 *   },
 * });
 * if (parsed.command === "logs") console.log(parsed.args[0], parsed.values.n); // kafka-1 20
 * ```
 */
export function parseCommand<
  const S extends FlagSpecs = Record<never, never>,
  const C extends SubcommandSpecs = SubcommandSpecs,
>(args: readonly string[], spec: CommandsSpec<S, C>): ParsedCommand<S, C> {
  const names = Object.keys(spec.commands);
  const { union, owners } = allFlags(spec as unknown as CommandsSpec);
  const found = findCommand(args, names, union);
  let command = found.command;
  if (command === undefined && found.words.length === 0 && spec.defaultCommand !== undefined) {
    command = spec.defaultCommand;
  }
  if (command === undefined) {
    // Help and flag mistakes come first; then say what is wrong with the command words.
    const s = scan(args, union);
    if (s.help) throw new HelpRequested();
    if (s.errors.length) throw new UsageError(s.errors[0]);
    const label = spec.label ?? "command";
    const said = found.words.join(" ");
    if (!said) {
      const first = [...new Set(names.map((n) => n.split(" ")[0]))];
      throw new UsageError(`name a ${label}: ${orList(first)}`);
    }
    const next = names.filter((n) => n.startsWith(`${said} `)).map((n) => n.slice(said.length + 1));
    if (next.length) throw new UsageError(`${said} needs one of: ${orList(next)}`);
    throw new UsageError(`unknown ${label} "${said}"`);
  }
  const sub = spec.commands[command];
  const flags: FlagSpecs = { ...spec.flags, ...sub.flags };
  const tokens = sub.rest && found.end >= 0 ? args.slice(0, found.end) : args;
  const s = scan(tokens, flags);
  s.errors = s.errors.map((e) => {
    const flag = e.startsWith("unknown flag ") ? e.slice("unknown flag ".length) : "";
    const theirs = owners.get(flag);
    return theirs ? `${flag} is a flag of ${orList(theirs)}, not of ${command}` : e;
  });
  const positionals = s.positionals.slice(found.words.length);
  const values = finish(s, flags, sub.args, positionals);
  return {
    command,
    values,
    args: positionals,
    rest: sub.rest && found.end >= 0 ? args.slice(found.end) : [],
  } as ParsedCommand<S, C>;
}

/**
 * Runs one command: parses `args` with `parse`; for {@linkcode HelpRequested}
 * prints `usage` and returns 0; for a {@linkcode UsageError} prints
 * `<name>: <mistake>` and the usage to stderr and returns 2; otherwise
 * returns what `run` returns (other errors propagate).
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
  let options: T;
  try {
    options = parse(args);
  } catch (e) {
    if (e instanceof HelpRequested) {
      console.log(usage);
      return 0;
    }
    if (!(e instanceof UsageError)) throw e;
    console.error(`${name}: ${e.message}\n\n${usage}`);
    return 2;
  }
  return await run(options);
}

/** A task's command line: its name, usage text, declarations and parser. */
export interface Cli<P> {
  /** As in mistakes: `stack`, `bench log`. */
  readonly name: string;
  /** What `--help` prints. */
  readonly usage: string;
  /** Every declared flag as written (`--mode`, and `-m` when it has one), hidden ones left out. */
  readonly flags: readonly { readonly long: string; readonly short?: string }[];
  /** Whether arguments it does not know go to another program. */
  readonly passThrough: boolean;
  /** Parses; throws {@linkcode HelpRequested} or {@linkcode UsageError}. */
  parse(args: readonly string[]): P;
  /** {@linkcode runCommand} with this parser. */
  run(args: string[], run: (parsed: P) => Promise<number>): Promise<number>;
}

function names(flagSets: (FlagSpecs | undefined)[]): Cli<unknown>["flags"] {
  const out = new Map<string, { long: string; short?: string }>();
  for (const flags of flagSets) {
    for (const [name, spec] of Object.entries(flags ?? {})) {
      if (spec.hidden || out.has(name)) continue;
      out.set(
        name,
        spec.short ? { long: `--${name}`, short: `-${spec.short}` } : { long: `--${name}` },
      );
    }
  }
  return [...out.values()];
}

function cliOf<P>(
  name: string,
  usage: string,
  flags: Cli<unknown>["flags"],
  passThrough: boolean,
  parse: (args: readonly string[]) => P,
): Cli<P> {
  return {
    name,
    usage,
    flags,
    passThrough,
    parse,
    run: (args, run) => runCommand(name, usage, args, parse, run),
  };
}

/**
 * A task's command line without subcommands: {@linkcode parseFlags} with a
 * name and usage text.
 *
 * @example
 * ```ts
 * import { defineCli } from "./cli.ts";
 * const cli = defineCli({
 *   name: "bench lake",
 *   usage: "usage: deno task bench lake [--rows N]",
 *   flags: { rows: { type: "int", min: 1, default: 10000 } },
 * });
 * console.log(cli.parse(["--rows", "50"]).values.rows); // 50
 * ```
 */
export function defineCli<const S extends FlagSpecs = Record<never, never>>(
  spec: FlagsSpec<S> & { readonly name: string; readonly usage: string },
): Cli<ParsedFlags<S>> {
  return cliOf(
    spec.name,
    spec.usage,
    names([spec.flags]),
    spec.passThrough ?? false,
    (args) => parseFlags<S>(args, spec),
  );
}

/**
 * A task's command line with subcommands: {@linkcode parseCommand} with a
 * name and usage text.
 *
 * @example
 * ```ts
 * import { defineCommands } from "./cli.ts";
 * const cli = defineCommands({
 *   name: "stack",
 *   usage: "usage: deno task stack <up|down>",
 *   commands: { up: { flags: { mode: { type: "string", choices: ["docker", "native"] } } }, down: {} },
 * });
 * const parsed = cli.parse(["up", "--mode", "native"]);
 * if (parsed.command === "up") console.log(parsed.values.mode); // native
 * ```
 */
export function defineCommands<
  const S extends FlagSpecs = Record<never, never>,
  const C extends SubcommandSpecs = SubcommandSpecs,
>(
  spec: CommandsSpec<S, C> & { readonly name: string; readonly usage: string },
): Cli<ParsedCommand<S, C>> {
  const subs = Object.values(spec.commands as SubcommandSpecs).map((c) => c.flags);
  return cliOf(
    spec.name,
    spec.usage,
    names([spec.flags, ...subs]),
    false,
    (args) => parseCommand<S, C>(args, spec),
  );
}
