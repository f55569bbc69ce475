/**
 * Registry conformance: runs against whatever `SCHEMA_REGISTRY_URL` points to
 * (the native registry, or Confluent's in Docker mode) and pins the HTTP
 * statuses and `error_code`s of Confluent's API reference for a missing
 * subject, version and schema, an invalid schema or version, and an
 * incompatible schema (40401, 40402, 40403, 42201, 42202, 42203, 409). The native registry's own API details (restarts, the
 * `_schemas` format, deletes) are in registry_test.ts.
 */
import assert from "node:assert/strict";
import { type RawResponse, RegistryClient } from "../lib/schema/rest.ts";
import { config, requireRegistry, uniqueName } from "./support.ts";

const record = (name: string, fields: unknown[]) =>
  JSON.stringify({ type: "record", name, namespace: "conformance", fields });
const ID = { name: "id", type: "int" };

function assertError(r: RawResponse, status: number, code: number | readonly number[]): void {
  const codes = Array.isArray(code) ? code : [code];
  assert.equal(r.status, status, `expected HTTP ${status}, got ${r.status}: ${r.text}`);
  assert.ok(
    codes.includes(r.body?.error_code),
    `error_code ${codes.join("|")} expected: ${r.text}`,
  );
  assert.equal(typeof r.body?.message, "string", `a message is expected: ${r.text}`);
}

// Confluent before 8.2 answers an incompatible schema with error_code 409; 8.2+ with 40901.
const INCOMPATIBLE = [409, 40901] as const;

Deno.test("schema registry at SCHEMA_REGISTRY_URL: Confluent's statuses and error codes", async (t) => {
  await requireRegistry();
  const registry = new RegistryClient(config.schemaRegistry.url);
  const call = (method: string, path: string, body?: unknown) => registry.raw(method, path, body);
  const subject = uniqueName("conformance-value");
  const s = `/subjects/${encodeURIComponent(subject)}`;
  const missing = `/subjects/${encodeURIComponent(uniqueName("missing-value"))}`;
  const v1 = record("Conformance", [ID]);
  let id = 0;
  try {
    await t.step("register, read back, look up", async () => {
      const put = await call("PUT", `/config/${encodeURIComponent(subject)}`, {
        compatibility: "BACKWARD",
      });
      assert.equal(put.status, 200, put.text);
      assert.equal(put.body.compatibility, "BACKWARD");
      const r = await call("POST", `${s}/versions`, { schema: v1 });
      assert.equal(r.status, 200, r.text);
      id = r.body.id;
      assert.equal(typeof id, "number");
      const again = await call("POST", `${s}/versions`, { schema: v1 });
      assert.equal(again.body.id, id, "registering the same schema again returns the same id");
      const latest = await call("GET", `${s}/versions/latest`);
      assert.deepEqual([latest.body.id, latest.body.version, latest.body.subject], [
        id,
        1,
        subject,
      ]);
      const byId = await call("GET", `/schemas/ids/${id}`);
      assert.equal(byId.status, 200, byId.text);
      assert.equal(typeof byId.body.schema, "string");
      const lookup = await call("POST", s, { schema: v1 });
      assert.deepEqual([lookup.status, lookup.body.version], [200, 1], lookup.text);
    });

    await t.step("missing subject: 404 / 40401", async () => {
      assertError(await call("GET", `${missing}/versions`), 404, 40401);
      assertError(await call("GET", `${missing}/versions/1`), 404, 40401);
      assertError(await call("GET", `${missing}/versions/latest`), 404, 40401);
      assertError(await call("POST", missing, { schema: v1 }), 404, 40401);
      assertError(await call("DELETE", missing), 404, 40401);
      assertError(await call("DELETE", `${missing}/versions/1`), 404, 40401);
    });

    await t.step("missing version: 404 / 40402", async () => {
      assertError(await call("GET", `${s}/versions/99`), 404, 40402);
      assertError(await call("GET", `${s}/versions/99/schema`), 404, 40402);
      assertError(await call("DELETE", `${s}/versions/99`), 404, 40402);
      assertError(
        await call("POST", `/compatibility${s}/versions/99`, { schema: v1 }),
        404,
        40402,
      );
    });

    await t.step("missing schema: 404 / 40403", async () => {
      assertError(await call("GET", "/schemas/ids/2147483000"), 404, 40403);
      assertError(await call("GET", "/schemas/ids/2147483000/schema"), 404, 40403);
      const other = record("Conformance", [ID, { name: "x", type: "long", default: 0 }]);
      assertError(await call("POST", s, { schema: other }), 404, 40403);
    });

    await t.step("invalid version: 422 / 42202", async () => {
      assertError(await call("GET", `${s}/versions/not-a-version`), 422, 42202);
      assertError(await call("GET", `${s}/versions/0`), 422, 42202);
      assertError(await call("DELETE", `${s}/versions/-7`), 422, 42202);
    });

    await t.step("invalid schema: 422 / 42201", async () => {
      assertError(await call("POST", `${s}/versions`, { schema: '{"type":"bogus"}' }), 422, 42201);
      assertError(await call("POST", `${s}/versions`, { schema: "{not json" }), 422, 42201);
      assertError(
        await call("POST", `/compatibility${s}/versions/latest`, { schema: "{not json" }),
        422,
        42201,
      );
    });

    await t.step("incompatible schema: 409; the check endpoint says why", async () => {
      const incompatible = record("Conformance", [ID, { name: "x", type: "string" }]);
      assertError(await call("POST", `${s}/versions`, { schema: incompatible }), 409, INCOMPATIBLE);
      const check = await call("POST", `/compatibility${s}/versions/latest?verbose=true`, {
        schema: incompatible,
      });
      assert.equal(check.status, 200, check.text);
      assert.equal(check.body.is_compatible, false);
      assert.ok(
        check.body.messages.some((m: string) => m.includes("READER_FIELD_MISSING_DEFAULT_VALUE")),
        check.text,
      );
      const versions = await call("GET", `${s}/versions`);
      assert.deepEqual(versions.body, [1], "the incompatible schema was not registered");
    });

    await t.step("invalid compatibility level: 422 / 42203", async () => {
      assertError(
        await call("PUT", `/config/${encodeURIComponent(subject)}`, { compatibility: "NOPE" }),
        422,
        42203,
      );
    });
  } finally {
    await registry.deleteSubject(subject);
  }
  const gone = await call("GET", `${s}/versions`);
  assertError(gone, 404, 40401);
});
