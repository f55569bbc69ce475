/**
 * `deno task schemas <command>`: the contracts in `schemas/` and the registry.
 *
 * ```sh
 * deno task schemas list                     # local families and versions, registry state
 * deno task schemas diff order [1 2]         # field changes between two local versions + verdicts
 * deno task schemas check                    # CI gate: exit 1 with the reason if a schema breaks
 * deno task schemas register                 # check, then register every new version in order
 * ```
 *
 * Flags: `--strategy topic|record|topic-record` (subject naming, default topic).
 *
 * @module
 */
import { loadConfig } from "../lib/config.ts";
import { defineCommands, formatTable, runCommand, UsageError } from "../lib/util/mod.ts";
import {
  checkCatalog,
  checkCompatibility,
  COMPATIBILITY_LEVELS,
  diffSchemas,
  loadCatalog,
  registerCatalog,
  RegistryClient,
  SUBJECT_STRATEGIES,
  subjectOf,
} from "../lib/schema/mod.ts";

const USAGE = `usage: deno task schemas <list|diff|check|register> [flags]

  list                         local families and versions beside the registry's subjects
  diff <family> [from] [to]    field changes between two local versions (default: the last two)
                               and the verdict under every compatibility level
  check                        CI gate: every local version not yet registered is checked against
                               the subject's registered versions under the subject's level;
                               exits 1 with the field and direction that break
  register                     check, then register every new version, oldest first

flags:
  --strategy topic|record|topic-record   subject naming strategy (default: topic)
  --help                                 this text`;

/** The command line of `deno task schemas`. */
export const CLI = defineCommands({
  name: "schemas",
  usage: USAGE,
  flags: {
    strategy: { type: "string", choices: SUBJECT_STRATEGIES, default: "topic" },
  },
  commands: {
    list: {},
    diff: { args: { name: "<family>", min: 1, max: 3 } },
    check: {},
    register: {},
  },
});

function parseSchemasArgs(args: string[]) {
  const { command, args: rest, values } = CLI.parse(args);
  for (const [i, v] of rest.slice(1).entries()) {
    if (!/^[1-9]\d*$/.test(v)) {
      throw new UsageError(`diff: [${i ? "to" : "from"}] is a version number, got "${v}"`);
    }
  }
  return { command, rest, strategy: values.strategy };
}

function main(args: string[]): Promise<number> {
  return runCommand(CLI.name, CLI.usage, args, parseSchemasArgs, run);
}

async function run(
  { command, rest, strategy }: ReturnType<typeof parseSchemasArgs>,
): Promise<number> {
  const config = loadConfig();
  const catalog = await loadCatalog();
  const registry = new RegistryClient(config.schemaRegistry.url);

  switch (command) {
    case "list": {
      const rows = [];
      for (const f of catalog.families) {
        const subject = subjectOf(config.topics, f.latest, strategy);
        const history = await registry.history(subject);
        rows.push([
          f.name,
          f.versions.map((v) => `v${v.version}`).join(","),
          subject,
          history.length ? history.map((h) => `${h.version}:${h.id}`).join(",") : "-",
          history.length ? await registry.compatibility(subject) : "-",
        ]);
      }
      console.log(
        formatTable(["family", "local", "subject", "registered (version:id)", "level"], rows),
      );
      return 0;
    }
    case "diff": {
      const family = catalog.family(rest[0] ?? "");
      const n = family.versions.length;
      const from = Number(rest[1] ?? Math.max(1, n - 1));
      const to = Number(rest[2] ?? n);
      const a = family.versions[from - 1];
      const b = family.versions[to - 1];
      if (!a || !b) {
        console.error(`${family.name} has versions 1..${n}; asked for ${rest[1]} and ${rest[2]}`);
        return 2;
      }
      console.log(`${family.name}: v${from} -> v${to}\n`);
      const changes = diffSchemas(a.schema, b.schema);
      console.log(formatTable(
        ["field", "change", "detail"],
        changes.map((c) => [c.field, c.change, c.detail]),
      ));
      console.log("");
      const verdicts = COMPATIBILITY_LEVELS.filter((l) => !l.endsWith("_TRANSITIVE")).map((l) => {
        const r = checkCompatibility(l, b.text, [{ version: from, schema: a.text }]);
        return [
          l,
          r.compatible ? "accept" : "reject",
          r.problems.map((p) => p.explanation).join("; "),
        ];
      });
      console.log(formatTable(["level", "verdict", "why"], verdicts));
      return 0;
    }
    case "check":
    case "register": {
      const rows = await checkCatalog(catalog, registry, config.topics, strategy);
      console.log(formatTable(
        ["family", "version", "subject", "level", "result"],
        rows.map((r) => [
          r.family,
          `v${r.version}`,
          r.subject,
          r.level,
          r.alreadyRegistered ? "registered" : r.ok ? "compatible" : "INCOMPATIBLE",
        ]),
      ));
      const broken = rows.filter((r) => !r.ok);
      for (const r of broken) {
        console.error(`\n${r.family} v${r.version} breaks ${r.subject} (${r.level}):`);
        for (const reason of r.reasons) console.error(`  - ${reason}`);
      }
      if (broken.length > 0) {
        console.error(
          `\n${broken.length} schema(s) would break their subject. Fix them (add defaults, ` +
            "aliases, enum defaults) or agree a new subject; see notebooks/03_data_contracts.ipynb.",
        );
        return 1;
      }
      if (command === "check") {
        console.log(`\nall ${rows.length} schema versions are compatible with the registry.`);
        return 0;
      }
      const registered = await registerCatalog(catalog, registry, rows);
      console.log(
        registered.length
          ? `\n${
            formatTable(
              ["family", "version", "subject", "id"],
              registered.map((r) => [r.family, `v${r.version}`, r.subject, r.id]),
            )
          }`
          : "\nnothing new to register.",
      );
      return 0;
    }
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
