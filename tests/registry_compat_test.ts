/**
 * Unit tests of the native Schema Registry's pure parts: compatibility levels
 * (verdicts from avsc's resolver, Confluent-style messages), canonical form,
 * the `_schemas` record format and the state machine. No services needed.
 */
import assert from "node:assert/strict";
import {
  decodeKey,
  encodeConfigValue,
  encodeDeleteSubjectValue,
  encodeKey,
  encodeSchemaValue,
  parseVersion,
  RegistryState,
} from "../lib/registry/mod.ts";
import { canonicalAvro, ErrorCode, parseAvroSchema, RegistryError } from "../lib/schema/mod.ts";
import {
  checkCompatibility,
  COMPATIBILITY_LEVELS,
  type CompatibilityLevel,
  parseCompatibilityLevel,
} from "../lib/schema/compatibility.ts";

const record = (fields: unknown[], extra: Record<string, unknown> = {}) =>
  JSON.stringify({ type: "record", name: "User", namespace: "shop", fields, ...extra });

const ID = { name: "id", type: "int" };
const V1 = record([ID]);

/** old -> new changes, with the verdict expected for each base level. */
const CHANGES: {
  name: string;
  old: string;
  next: string;
  backward: boolean;
  forward: boolean;
}[] = [
  {
    name: "add field with default",
    old: V1,
    next: record([ID, { name: "email", type: "string", default: "" }]),
    backward: true,
    forward: true,
  },
  {
    name: "add field without default",
    old: V1,
    next: record([ID, { name: "email", type: "string" }]),
    backward: false,
    forward: true,
  },
  {
    name: "remove field (no default)",
    old: record([ID, { name: "email", type: "string" }]),
    next: V1,
    backward: true,
    forward: false,
  },
  {
    name: "widen int to long",
    old: V1,
    next: record([{ name: "id", type: "long" }]),
    backward: true,
    forward: false,
  },
  {
    name: "add enum symbol",
    old: record([ID, { name: "tier", type: { type: "enum", name: "Tier", symbols: ["A", "B"] } }]),
    next: record([ID, {
      name: "tier",
      type: { type: "enum", name: "Tier", symbols: ["A", "B", "C"] },
    }]),
    backward: true,
    forward: false,
  },
  {
    name: "rename field with alias",
    old: V1,
    next: record([{ name: "userId", type: "int", aliases: ["id"] }]),
    backward: true,
    forward: false,
  },
];

function expected(level: CompatibilityLevel, c: (typeof CHANGES)[number]): boolean {
  const base = level.replace("_TRANSITIVE", "");
  if (base === "NONE") return true;
  if (base === "BACKWARD") return c.backward;
  if (base === "FORWARD") return c.forward;
  return c.backward && c.forward;
}

Deno.test("compatibility: every level against one previous version", async (t) => {
  for (const c of CHANGES) {
    await t.step(c.name, () => {
      for (const level of COMPATIBILITY_LEVELS) {
        const r = checkCompatibility(level, c.next, [{ version: 1, schema: c.old }]);
        assert.equal(r.compatible, expected(level, c), `${c.name} under ${level}`);
        assert.equal(r.messages.length === 0, r.compatible, `${level}: messages iff incompatible`);
      }
    });
  }
});

Deno.test("compatibility: transitive levels look at every live version", async (t) => {
  await t.step("BACKWARD vs BACKWARD_TRANSITIVE", () => {
    const history = [
      { version: 1, schema: V1 },
      { version: 2, schema: record([ID, { name: "e", type: "string", default: "" }]) },
    ];
    const next = record([ID, { name: "e", type: "string" }]);
    assert.equal(checkCompatibility("BACKWARD", next, history).compatible, true);
    const r = checkCompatibility("BACKWARD_TRANSITIVE", next, history);
    assert.equal(r.compatible, false);
    assert.ok(r.messages.includes("{oldSchemaVersion: 1}"), r.messages.join("\n"));
  });
  await t.step("FORWARD and FULL vs their _TRANSITIVE", () => {
    const history = [
      { version: 1, schema: record([ID, { name: "x", type: "int" }]) },
      { version: 2, schema: record([ID, { name: "x", type: "int", default: 0 }]) },
    ];
    const next = V1;
    assert.equal(checkCompatibility("FORWARD", next, history).compatible, true);
    assert.equal(checkCompatibility("FORWARD_TRANSITIVE", next, history).compatible, false);
    assert.equal(checkCompatibility("FULL", next, history).compatible, true);
    assert.equal(checkCompatibility("FULL_TRANSITIVE", next, history).compatible, false);
    assert.equal(checkCompatibility("NONE", next, history).compatible, true);
  });
  await t.step("no previous version: always compatible", () => {
    for (const level of COMPATIBILITY_LEVELS) {
      assert.equal(checkCompatibility(level, V1, []).compatible, true);
    }
  });
});

Deno.test("compatibility: messages say which field and which direction", async (t) => {
  await t.step("BACKWARD: new reader misses a default", () => {
    const r = checkCompatibility("BACKWARD", CHANGES[1].next, [{ version: 3, schema: V1 }]);
    assert.match(r.messages[0], /errorType:'READER_FIELD_MISSING_DEFAULT_VALUE'/);
    assert.match(
      r.messages[0],
      /The field 'email' at path '\/fields\/1' in the new schema has no default value and is missing in the old schema/,
    );
    assert.ok(r.messages.includes("{oldSchemaVersion: 3}"));
    assert.equal(r.messages.at(-1), "{validateFields: 'false', compatibility: 'BACKWARD'}");
  });
  await t.step("FORWARD: old reader misses a removed field", () => {
    const r = checkCompatibility("FORWARD", CHANGES[2].next, [{ schema: CHANGES[2].old }]);
    assert.match(
      r.messages[0],
      /field 'email' .* in the old schema has no default value .* new schema/,
    );
  });
  await t.step("type, enum and union problems", () => {
    const int2long = checkCompatibility("FORWARD", CHANGES[3].next, [{ schema: V1 }]);
    assert.match(int2long.messages[0], /TYPE_MISMATCH.*path '\/fields\/0\/type'.*reader type: INT/);
    const enums = checkCompatibility("FORWARD", CHANGES[4].next, [{ schema: CHANGES[4].old }]);
    assert.match(enums.messages[0], /MISSING_ENUM_SYMBOLS.*'\[C\]'.*\/fields\/1\/type\/symbols/);
    const union = checkCompatibility("BACKWARD", '"string"', [{ schema: '["null","string"]' }]);
    assert.match(union.messages[0], /MISSING_UNION_BRANCH|TYPE_MISMATCH/);
  });
  await t.step("a non-AVRO previous schema is incompatible", () => {
    const r = checkCompatibility("BACKWARD", V1, [{
      schema: "syntax = 'proto3';",
      schemaType: "PROTOBUF",
    }]);
    assert.equal(r.compatible, false);
    assert.equal(r.messages[0], "Incompatible because of different schema type");
  });
});

Deno.test("compatibility levels parse case-insensitively", () => {
  assert.equal(parseCompatibilityLevel("full_transitive"), "FULL_TRANSITIVE");
  assert.equal(parseCompatibilityLevel(" none "), "NONE");
  assert.equal(parseCompatibilityLevel("SIDEWAYS"), undefined);
  assert.equal(parseCompatibilityLevel(3), undefined);
});

Deno.test("canonical form", async (t) => {
  await t.step("whitespace, key order and full names do not matter", () => {
    const a =
      `{"type":"record","name":"User","namespace":"shop","fields":[{"name":"id","type":"int"}]}`;
    const b = `{
      "fields" : [ { "type" : "int",   "name" : "id" } ],
      "name": "shop.User",
      "type": "record"
    }`;
    assert.equal(parseAvroSchema(a).canonical, parseAvroSchema(b).canonical);
    assert.equal(parseAvroSchema(a).canonical, a);
    assert.notEqual(
      parseAvroSchema(a).canonical,
      parseAvroSchema(V1.replace("int", "long")).canonical,
    );
  });
  await t.step("Java Avro's attribute order and namespace handling", () => {
    const input = {
      name: "a.b.Outer",
      type: "record",
      doc: "outer",
      fields: [
        { type: { type: "enum", symbols: ["X"], name: "E" }, name: "e", default: "X" },
        { name: "e2", type: "E" },
        { name: "other", type: { type: "fixed", size: 2, name: "c.F" } },
        { aliases: ["old"], order: "descending", default: 1, doc: "d", type: "int", name: "n" },
        { name: "when", type: { logicalType: "date", type: "int" } },
        { name: "s", type: { type: "string" } },
      ],
      "connect.name": "x",
    };
    assert.equal(
      canonicalAvro(input),
      '{"type":"record","name":"Outer","namespace":"a.b","doc":"outer","fields":[' +
        '{"name":"e","type":{"type":"enum","name":"E","symbols":["X"]},"default":"X"},' +
        '{"name":"e2","type":"E"},' +
        '{"name":"other","type":{"type":"fixed","name":"F","namespace":"c","size":2}},' +
        '{"name":"n","type":"int","doc":"d","default":1,"order":"descending","aliases":["old"]},' +
        '{"name":"when","type":{"type":"int","logicalType":"date"}},' +
        '{"name":"s","type":"string"}],"connect.name":"x"}',
    );
    assert.equal(canonicalAvro(' [ "null" , "string" ] '), '["null","string"]');
  });
  await t.step("invalid schemas are 422/42201", () => {
    for (
      const bad of [
        "",
        "{",
        '{"type":"recrd","name":"X","fields":[]}',
        '{"type":"record","fields":[]}',
      ]
    ) {
      assert.throws(() => parseAvroSchema(bad), (e: unknown) => {
        assert.ok(e instanceof RegistryError);
        assert.equal(e.status, 422);
        assert.equal(e.errorCode, ErrorCode.INVALID_SCHEMA);
        return true;
      });
    }
  });
});

Deno.test("version parsing", () => {
  assert.equal(parseVersion("1"), 1);
  assert.equal(parseVersion("latest"), -1);
  assert.equal(parseVersion("LATEST"), -1);
  assert.equal(parseVersion("-1"), -1);
  assert.equal(parseVersion("2147483647"), 2147483647);
  for (const bad of ["0", "-2", "abc", "1.5", "2147483648", ""]) {
    assert.throws(
      () => parseVersion(bad),
      (e: unknown) =>
        e instanceof RegistryError && e.status === 422 && e.errorCode === ErrorCode.INVALID_VERSION,
    );
  }
});

Deno.test("_schemas record format matches Confluent's", async (t) => {
  await t.step("keys", () => {
    assert.equal(
      encodeKey({ keytype: "SCHEMA", subject: "s", version: 1 }),
      '{"keytype":"SCHEMA","subject":"s","version":1,"magic":1}',
    );
    assert.equal(encodeKey({ keytype: "CONFIG", subject: null }), '{"keytype":"CONFIG","magic":0}');
    assert.equal(
      encodeKey({ keytype: "CONFIG", subject: "s" }),
      '{"keytype":"CONFIG","subject":"s","magic":0}',
    );
    assert.equal(
      encodeKey({ keytype: "DELETE_SUBJECT", subject: "s" }),
      '{"keytype":"DELETE_SUBJECT","subject":"s","magic":0}',
    );
    assert.equal(encodeKey({ keytype: "NOOP" }), '{"keytype":"NOOP","magic":0}');
    assert.deepEqual(decodeKey('{"keytype":"CONFIG","subject":null,"magic":0}'), {
      keytype: "CONFIG",
      subject: null,
      magic: 0,
    });
    assert.equal(decodeKey("not json"), undefined);
    assert.equal(
      decodeKey('{"keytype":"CONTEXT","tenant":"default","context":".x"}')?.keytype,
      "OTHER",
    );
  });
  await t.step("values", () => {
    assert.equal(
      encodeSchemaValue({ subject: "s", version: 1, id: 1, schema: '"int"', deleted: false }),
      '{"subject":"s","version":1,"id":1,"schema":"\\"int\\"","deleted":false}',
    );
    assert.equal(
      encodeSchemaValue({
        subject: "s",
        version: 1,
        id: 1,
        schema: "x",
        deleted: true,
        schemaType: "PROTOBUF",
        references: [],
      }),
      '{"subject":"s","version":1,"id":1,"schemaType":"PROTOBUF","schema":"x","deleted":true}',
    );
    assert.equal(
      encodeConfigValue({ compatibilityLevel: "FULL" }),
      '{"compatibilityLevel":"FULL"}',
    );
    assert.equal(
      encodeConfigValue({ compatibilityLevel: "NONE", normalize: true, subject: "s" }),
      '{"subject":"s","normalize":true,"compatibilityLevel":"NONE"}',
    );
    assert.equal(
      encodeDeleteSubjectValue({ subject: "s", version: 2 }),
      '{"subject":"s","version":2}',
    );
  });
});

Deno.test("state: applying Confluent records", async (t) => {
  const warnings: string[] = [];
  const state = new RegistryState((m) => warnings.push(m));
  let offset = 0;
  const put = (key: Parameters<typeof encodeKey>[0], value: string | null) =>
    state.apply(encodeKey(key), value, offset++);
  const schema = (subject: string, version: number, id: number, s: string, deleted = false) =>
    put(
      { keytype: "SCHEMA", subject, version },
      encodeSchemaValue({ subject, version, id, schema: s, deleted }),
    );

  await t.step("schemas, ids and versions", () => {
    schema("a", 1, 1, '"int"');
    schema("a", 2, 2, '"long"');
    schema("b", 1, 1, '"int"');
    assert.deepEqual(state.subjects(), ["a", "b"]);
    assert.equal(state.latest("a")?.version, 2);
    assert.equal(state.idOf('"int"'), 1);
    assert.deepEqual(state.usesOf(1).map((v) => `${v.subject}/${v.version}`), ["a/1", "b/1"]);
    assert.equal(state.maxId, 2);
  });
  await t.step("DELETE_SUBJECT soft-deletes up to its version; versions are never reused", () => {
    put(
      { keytype: "DELETE_SUBJECT", subject: "a" },
      encodeDeleteSubjectValue({ subject: "a", version: 2 }),
    );
    assert.deepEqual(state.subjects(), ["b"]);
    assert.deepEqual(state.subjects(true), ["a", "b"]);
    assert.equal(state.versions("a", true).every((v) => v.deleted), true);
    put({ keytype: "SCHEMA", subject: "a", version: 1 }, null);
    put({ keytype: "SCHEMA", subject: "a", version: 2 }, null);
    assert.deepEqual(state.subjects(true), ["b"]);
    assert.equal(state.nextVersion("a"), 3);
  });
  await t.step("configs, modes, tombstones", () => {
    put({ keytype: "CONFIG", subject: null }, '{"compatibilityLevel":"FULL"}');
    put({ keytype: "CONFIG", subject: "b" }, '{"subject":"b","compatibilityLevel":"NONE"}');
    put({ keytype: "MODE", subject: null }, '{"mode":"READWRITE"}');
    assert.equal(state.config(null)?.compatibilityLevel, "FULL");
    assert.equal(state.config("b")?.compatibilityLevel, "NONE");
    assert.equal(state.mode(null), "READWRITE");
    put({ keytype: "CONFIG", subject: "b" }, null);
    assert.equal(state.config("b"), undefined);
  });
  await t.step("CLEAR_SUBJECT forgets soft-deleted versions", () => {
    schema("c", 1, 3, '"string"', true);
    schema("c", 2, 4, '"bytes"');
    state.apply('{"keytype":"CLEAR_SUBJECT","subject":"c","magic":0}', '{"subject":"c"}', offset++);
    assert.deepEqual(state.versions("c", true).map((v) => v.version), [2]);
  });
  await t.step("junk, unknown key types and id clashes are skipped, replays ignored", () => {
    const before = state.subjects(true).join();
    state.apply("garbage", "x", offset++);
    state.apply('{"keytype":"ASSOC","subject":"x"}', "{}", offset++);
    state.apply('{"keytype":"CONTEXT","tenant":"t","context":".c","magic":0}', "{}", offset++);
    schema("d", 1, 1, '"float"'); // id 1 already names "int"
    put({ keytype: "SCHEMA", subject: "e", version: 1 }, "{not json");
    state.apply(
      encodeKey({ keytype: "SCHEMA", subject: "z", version: 1 }),
      encodeSchemaValue({ subject: "z", version: 1, id: 9, schema: '"int"', deleted: false }),
      0, // an offset already applied: a consumer restart re-delivering it
    );
    assert.equal(state.subjects(true).join(), before);
    assert.ok(warnings.length >= 3, warnings.join("\n"));
  });
});
