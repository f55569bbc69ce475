/**
 * The compatibility matrix: 8 change types under 7 levels (and a transitive
 * chain), asserted
 * three ways: the local checker (lib/schema/compatibility.ts), the live
 * registry at SCHEMA_REGISTRY_URL (`POST /compatibility/...`), and the data
 * itself (old records read with the new schema, new records with the old, as
 * the level promises).
 */
import assert from "node:assert/strict";
import avsc from "avsc";
import {
  checkCompatibility,
  COMPATIBILITY_LEVELS,
  type CompatibilityLevel,
} from "../lib/schema/compatibility.ts";
import { RegistryClient } from "../lib/schema/rest.ts";
import { config, requireRegistry, uniqueName } from "./support.ts";

const record = (fields: unknown[]) =>
  JSON.stringify({ type: "record", name: "Customer", namespace: "matrix", fields });
const ID = { name: "id", type: "int" };
const EMAIL = { name: "email", type: "string" };
const tier = (symbols: string[]) => ({
  name: "tier",
  type: { type: "enum", name: "Tier", symbols },
});

/** A change from `old` to `next`, and whether each direction can read the other. */
interface Change {
  name: string;
  old: string;
  next: string;
  /** new schema reads old data */
  backward: boolean;
  /** old schema reads new data */
  forward: boolean;
}

const CHANGES: Change[] = [
  {
    name: "add a field with a default",
    old: record([ID]),
    next: record([ID, { ...EMAIL, default: "" }]),
    backward: true,
    forward: true,
  },
  {
    name: "add a field without a default",
    old: record([ID]),
    next: record([ID, EMAIL]),
    backward: false,
    forward: true,
  },
  {
    name: "remove a field that had a default",
    old: record([ID, { ...EMAIL, default: "" }]),
    next: record([ID]),
    backward: true,
    forward: true,
  },
  {
    name: "remove a field without a default",
    old: record([ID, EMAIL]),
    next: record([ID]),
    backward: true,
    forward: false,
  },
  {
    name: "rename a field with an alias",
    old: record([ID, EMAIL]),
    next: record([ID, { ...EMAIL, name: "mail", aliases: ["email"] }]),
    backward: true,
    forward: false,
  },
  {
    name: "widen int to long",
    old: record([ID]),
    next: record([{ name: "id", type: "long" }]),
    backward: true,
    forward: false,
  },
  {
    name: "add an enum symbol",
    old: record([ID, tier(["GOLD", "SILVER"])]),
    next: record([ID, tier(["GOLD", "SILVER", "BRONZE"])]),
    backward: true,
    forward: false,
  },
  {
    name: "change a type (int to string)",
    old: record([ID]),
    next: record([{ name: "id", type: "string" }]),
    backward: false,
    forward: false,
  },
];

function expected(level: CompatibilityLevel, c: Change): boolean {
  const base = level.replace("_TRANSITIVE", "");
  if (base === "NONE") return true;
  if (base === "BACKWARD") return c.backward;
  if (base === "FORWARD") return c.forward;
  return c.backward && c.forward;
}

/** Can `reader` read what `writer` wrote? Proven on data, not on the schemas alone. */
function readsData(readerText: string, writerText: string): boolean {
  const reader = avsc.Type.forSchema(JSON.parse(readerText));
  const writer = avsc.Type.forSchema(JSON.parse(writerText));
  let resolver;
  try {
    resolver = reader.createResolver(writer);
  } catch {
    return false;
  }
  for (let i = 0; i < 20; i++) {
    const value = writer.random();
    const read = reader.fromBuffer(writer.toBuffer(value), resolver);
    assert.ok(reader.isValid(read), `decoded value is valid for the reader`);
  }
  return true;
}

Deno.test("compatibility matrix: local checker, every change x every level", async (t) => {
  for (const c of CHANGES) {
    await t.step(c.name, () => {
      for (const level of COMPATIBILITY_LEVELS) {
        const r = checkCompatibility(level, c.next, [{ version: 1, schema: c.old }]);
        assert.equal(r.compatible, expected(level, c), `${c.name} under ${level}`);
        if (!r.compatible) {
          assert.ok(r.problems.length > 0, "a rejection explains itself");
          for (const p of r.problems) {
            assert.ok(p.explanation.includes("v1"), p.explanation);
            if (p.direction === "BACKWARD") assert.equal(p.reader, "new");
            else assert.equal(p.reader, "old");
          }
        }
      }
    });
  }
});

Deno.test("compatibility matrix: the data proves each verdict", async (t) => {
  for (const c of CHANGES) {
    await t.step(c.name, () => {
      assert.equal(readsData(c.next, c.old), c.backward, "new schema reads old data");
      assert.equal(readsData(c.old, c.next), c.forward, "old schema reads new data");
    });
  }
});

Deno.test("compatibility: explanations name the field and the reader", () => {
  const removeRequired = CHANGES[3];
  const backward = checkCompatibility("BACKWARD", CHANGES[1].next, [{
    version: 3,
    schema: CHANGES[1].old,
  }]);
  assert.deepEqual(
    backward.problems.map((p) => [p.field, p.reader, p.direction, p.oldVersion]),
    [["email", "new", "BACKWARD", 3]],
  );
  assert.match(backward.problems[0].explanation, /new schema requires field 'email'.*v3/);
  const forward = checkCompatibility("FORWARD", removeRequired.next, [{
    version: 1,
    schema: removeRequired.old,
  }]);
  assert.deepEqual(forward.problems.map((p) => [p.field, p.reader]), [["email", "old"]]);
  assert.match(forward.problems[0].explanation, /consumers still on v1 cannot read/);
  const type = checkCompatibility("FULL", CHANGES[7].next, [{
    version: 1,
    schema: CHANGES[7].old,
  }]);
  assert.deepEqual(type.problems.map((p) => p.direction).sort(), ["BACKWARD", "FORWARD"]);
});

Deno.test("compatibility matrix: the live registry gives the same verdicts", async (t) => {
  await requireRegistry();
  const registry = new RegistryClient(config.schemaRegistry.url);
  const subjects: string[] = [];
  try {
    for (const c of CHANGES) {
      await t.step(c.name, async () => {
        const subject = uniqueName("matrix-value");
        subjects.push(subject);
        await registry.setCompatibility(subject, "NONE");
        await registry.register(subject, c.old);
        for (const level of COMPATIBILITY_LEVELS) {
          await registry.setCompatibility(subject, level);
          const live = await registry.testCompatibility(subject, c.next);
          const local = checkCompatibility(level, c.next, [{ version: 1, schema: c.old }]);
          assert.equal(live.is_compatible, expected(level, c), `registry: ${c.name} / ${level}`);
          assert.equal(local.compatible, live.is_compatible, `local = registry: ${level}`);
        }
      });
    }
    await t.step("transitive levels look at every version (v1 -> v2 -> v3)", async () => {
      // v2 adds email with a default; v3 drops the default: v3 reads v2 data, not v1 data.
      const v1 = record([ID]);
      const v2 = record([ID, { ...EMAIL, default: "" }]);
      const v3 = record([ID, EMAIL]);
      const subject = uniqueName("matrix-transitive-value");
      subjects.push(subject);
      await registry.setCompatibility(subject, "NONE");
      await registry.register(subject, v1);
      await registry.register(subject, v2);
      const history = [{ version: 1, schema: v1 }, { version: 2, schema: v2 }];
      for (const level of COMPATIBILITY_LEVELS) {
        await registry.setCompatibility(subject, level);
        const live = await registry.testCompatibility(subject, v3);
        const local = checkCompatibility(level, v3, history);
        const want = !(level === "BACKWARD_TRANSITIVE" || level === "FULL_TRANSITIVE");
        assert.equal(live.is_compatible, want, `registry: ${level}`);
        assert.equal(local.compatible, want, `local: ${level}`);
        if (!want) assert.equal(local.problems[0].oldVersion, 1, "the failing reader is v1's data");
      }
      assert.equal(readsData(v3, v2), true, "v3 reads v2 data");
      assert.equal(readsData(v3, v1), false, "v3 cannot read v1 data");
    });
  } finally {
    for (const s of subjects) await registry.deleteSubject(s);
  }
});
