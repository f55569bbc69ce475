/**
 * The library's rooms and which rooms each may import, written down once as
 * data. Every relative import of every `lib/` file is read (JSDoc examples
 * excluded); an import into a room that is not in the importer's list fails,
 * and so does any pair of rooms that import each other. Notebooks and tasks
 * may import only a room's `mod.ts` (or `lib/config.ts`).
 */
import assert from "node:assert/strict";
import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const LIB = join(ROOT, "lib");

/** Room -> the rooms it may import. `(root)` is `lib/config.ts`. */
export const LAYERS: Record<string, readonly string[]> = {
  lab: [
    "(root)",
    "util",
    "kafka",
    "lake",
    "schema",
    "stack",
    "observe",
    "shopstream",
    "course",
  ],
  util: [],
  "(root)": ["util"],
  log: ["(root)", "util"],
  kafka: ["(root)", "util"],
  lake: ["(root)", "util"],
  schema: ["(root)", "util", "kafka"],
  registry: ["(root)", "util", "kafka", "schema"],
  stack: ["(root)", "util", "kafka", "lake"],
  observe: ["(root)", "util", "kafka", "lake"],
  shopstream: ["(root)", "util", "kafka", "lake", "schema", "observe"],
  drill: ["(root)", "util", "kafka", "lake", "schema", "stack", "observe", "shopstream", "bench"],
  bench: ["(root)", "util", "log", "kafka", "lake", "schema", "stack", "observe", "shopstream"],
  course: ["(root)", "util", "log", "kafka", "lake", "schema", "observe", "shopstream", "drill"],
};

function roomOf(path: string): string {
  const parts = relative(LIB, path).split("/");
  return parts.length >= 2 ? parts[0] : "(root)";
}

async function* tsFiles(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) yield* tsFiles(path);
    else if (entry.name.endsWith(".ts")) yield path;
  }
}

/** The relative specifiers a source imports or re-exports, comments removed. */
export function importsOf(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const found: string[] = [];
  for (const m of code.matchAll(/(?:from|import)\s*\(?\s*"(\.[^"]+)"/g)) found.push(m[1]);
  return found;
}

async function libEdges(): Promise<{ from: string; to: string; file: string; target: string }[]> {
  const edges = [];
  for await (const file of tsFiles(LIB)) {
    for (const spec of importsOf(await Deno.readTextFile(file))) {
      const target = normalize(join(dirname(file), spec));
      if (!target.startsWith(LIB)) continue;
      const from = roomOf(file), to = roomOf(target);
      if (from !== to) {
        edges.push({ from, to, file: relative(ROOT, file), target: relative(ROOT, target) });
      }
    }
  }
  return edges;
}

Deno.test("layering: every lib import goes to a room its layer allows", async (t) => {
  const edges = await libEdges();
  await t.step("every room is declared", () => {
    const rooms = new Set(edges.flatMap((e) => [e.from, e.to]));
    for (const room of rooms) assert.ok(room in LAYERS, `room ${room} is not in LAYERS`);
  });
  await t.step("no import outside the allowed rooms", () => {
    const bad = edges.filter((e) => !LAYERS[e.from].includes(e.to));
    assert.deepEqual(bad.map((e) => `${e.file} imports ${e.target} (${e.from} -> ${e.to})`), []);
  });
  await t.step("no two rooms import each other", () => {
    const pairs = new Set(edges.map((e) => `${e.from}>${e.to}`));
    const cycles = [...pairs].filter((p) => pairs.has(p.split(">").reverse().join(">")));
    assert.deepEqual(cycles, []);
  });
  await t.step("the declared layers themselves have no cycle", () => {
    const seen = new Set<string>(), stack = new Set<string>();
    const visit = (room: string, path: string[]): void => {
      assert.ok(!stack.has(room), `cycle in LAYERS: ${[...path, room].join(" -> ")}`);
      if (seen.has(room)) return;
      stack.add(room);
      for (const next of LAYERS[room]) visit(next, [...path, room]);
      stack.delete(room);
      seen.add(room);
    };
    for (const room of Object.keys(LAYERS)) visit(room, []);
  });
});

Deno.test("layering: tasks and notebooks import only entry points", async () => {
  const bad: string[] = [];
  const check = (file: string, code: string) => {
    for (const m of code.matchAll(/from\s+\\?"((?:\.\.\/)+lib\/[^"\\]+)\\?"/g)) {
      const spec = m[1];
      if (!/lib\/(config\.ts|[a-z]+\/mod\.ts)$/.test(spec)) bad.push(`${file}: ${spec}`);
    }
  };
  for await (const file of tsFiles(join(ROOT, "tasks"))) {
    check(relative(ROOT, file), await Deno.readTextFile(file));
  }
  for await (const entry of Deno.readDir(join(ROOT, "notebooks"))) {
    if (!entry.name.endsWith(".ipynb")) continue;
    check(`notebooks/${entry.name}`, await Deno.readTextFile(join(ROOT, "notebooks", entry.name)));
  }
  assert.deepEqual(bad, []);
});

Deno.test("layering: the import reader skips JSDoc examples and finds re-exports", () => {
  const src = `/**\n * import { x } from "../shopstream/mod.ts";\n */\nexport * from "./a.ts";\n` +
    `import { y } from "../util/mod.ts";\nconst m = await import("./lazy.ts");\n`;
  assert.deepEqual(importsOf(src), ["./a.ts", "../util/mod.ts", "./lazy.ts"]);
});

/** Module specifiers `entry` loads when it runs: static imports only, type-only and dynamic ones left out. */
async function runtimeGraph(entry: string): Promise<Set<string>> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", join(ROOT, entry)],
    stdout: "piped",
    stderr: "null",
  }).output();
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    roots: string[];
    redirects?: Record<string, string>;
    modules: {
      specifier: string;
      dependencies?: { isDynamic?: boolean; code?: { specifier: string } }[];
    }[];
  };
  const modules = new Map(info.modules.map((m) => [m.specifier, m]));
  const seen = new Set<string>();
  const todo = [...info.roots];
  while (todo.length) {
    let spec = todo.pop()!;
    while (info.redirects?.[spec]) spec = info.redirects[spec];
    if (seen.has(spec)) continue;
    seen.add(spec);
    for (const dep of modules.get(spec)?.dependencies ?? []) {
      if (!dep.isDynamic && dep.code) todo.push(dep.code.specifier);
    }
  }
  return seen;
}

Deno.test("layering: the sink's processes load no Faker (the library's entry point does)", async () => {
  const faker = (graph: Set<string>) => [...graph].filter((s) => s.includes("@faker-js/faker"));
  // The control: the walk finds Faker where it is loaded.
  assert.notDeepEqual(faker(await runtimeGraph("lib/shopstream/mod.ts")), []);
  // The pipeline's sink worker and the sink benchmark's child measure a sink without it.
  assert.deepEqual(faker(await runtimeGraph("lib/shopstream/sink_worker.ts")), []);
  assert.deepEqual(faker(await runtimeGraph("lib/bench/sink_child.ts")), []);
});
