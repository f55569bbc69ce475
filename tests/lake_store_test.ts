/**
 * The lake store's failure modes. A request that gets no answer (a server
 * that accepts and says nothing, as a SIGSTOPped MinIO does, or one that
 * stalls mid-answer) is abandoned after the idle bound with a transient
 * error; the real MinIO's permanent refusals (wrong secret, unknown access
 * key, no such bucket) are permanent errors naming the S3 code; and the
 * classification table.
 */
import assert from "node:assert/strict";
import { LakeStore, LakeStoreError, storeErrorKind } from "../lib/lake/store.ts";
import { withDeadline } from "../lib/util/deadline.ts";
import { config, requireMinio, uniqueName } from "./support.ts";

/** A TCP server that accepts connections and, optionally, answers only a status line and headers. */
function silentServer(partialAnswer: boolean) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  const done = (async () => {
    for await (const conn of listener) {
      conns.push(conn);
      if (partialAnswer) {
        (async () => {
          await conn.read(new Uint8Array(64 * 1024)).catch(() => null);
          await conn.write(
            new TextEncoder().encode(
              "HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: 5000\r\n\r\n<?xml",
            ),
          ).catch(() => 0);
        })();
      }
    }
  })().catch(() => {});
  return {
    endpoint: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    async close() {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed */ }
      }
      await done;
    },
  };
}

function storeAt(endpoint: string, requestTimeoutMs: number): LakeStore {
  return LakeStore.fromConfig({ ...config, s3: { ...config.s3, endpoint } }, { requestTimeoutMs });
}

async function failure(call: Promise<unknown>): Promise<{ error: LakeStoreError; ms: number }> {
  const started = performance.now();
  try {
    // A call that hangs is the failure under test: it must not hang the test too.
    await withDeadline(call, 15_000, "the store call");
  } catch (e) {
    assert.ok(e instanceof LakeStoreError, `not a LakeStoreError: ${e}`);
    return { error: e, ms: performance.now() - started };
  }
  throw new Error("the call succeeded");
}

Deno.test("lake store: a server that never answers is abandoned after the idle bound, as transient", async () => {
  for (const partial of [false, true]) {
    const server = silentServer(partial);
    try {
      const store = storeAt(server.endpoint, 700);
      for (
        const [name, call] of [
          ["put", () => store.put("k/x.bin", new Uint8Array([1, 2, 3]))],
          ["list", () => store.list("k/")],
          ["get", () => store.get("k/x.bin")],
        ] as const
      ) {
        const { error, ms } = await failure(call());
        const what = `${name} (${partial ? "headers, then silence" : "silence"})`;
        assert.ok(ms >= 600 && ms < 5000, `${what} failed after ${ms.toFixed(0)} ms`);
        assert.equal(error.transient, true, `${what}: ${error.message}`);
        assert.equal(storeErrorKind(error), "transient");
        assert.match(error.message, new RegExp(`^${name === "list" ? "list k/" : `${name} k/x`}`));
      }
    } finally {
      await server.close();
    }
  }
});

Deno.test("lake store: a call after a good one still times out (no silent retry on a reused socket)", async () => {
  // Answers the very first request, then nothing: MinIO frozen between two calls.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  let requests = 0;
  const done = (async () => {
    for await (const conn of listener) {
      conns.push(conn);
      (async () => {
        const buf = new Uint8Array(64 * 1024);
        while ((await conn.read(buf).catch(() => null)) !== null) {
          if (++requests > 1) continue;
          await conn.write(
            new TextEncoder().encode(
              'HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\nETag: "e"\r\n\r\n',
            ),
          ).catch(() => 0);
        }
      })();
    }
  })().catch(() => {});
  try {
    const store = storeAt(`http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`, 700);
    await store.put("k/1", new Uint8Array([1]));
    const { error, ms } = await failure(store.put("k/2", new Uint8Array([2])));
    assert.ok(ms < 5000, `the second call failed after ${ms.toFixed(0)} ms`);
    assert.equal(error.transient, true);
  } finally {
    listener.close();
    for (const c of conns) {
      try {
        c.close();
      } catch { /* closed */ }
    }
    await done;
  }
});

Deno.test("lake store: a refused connection is transient, nothing listening there", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const { error } = await failure(storeAt(`http://127.0.0.1:${port}`, 2000).list("x/"));
  assert.equal(error.transient, true, error.message);
  assert.equal(error.code, "ECONNREFUSED");
});

Deno.test("lake store: MinIO's permanent refusals are permanent, with their S3 code", async () => {
  await requireMinio();
  const cases: [string, typeof config.s3, string][] = [
    ["a wrong secret", { ...config.s3, secretKey: "not-the-secret" }, "SignatureDoesNotMatch"],
    ["an unknown access key", { ...config.s3, accessKey: "nobody-here" }, "InvalidAccessKeyId"],
    [
      "a missing bucket",
      { ...config.s3, bucket: uniqueName("no-such").replace(/\./g, "-") },
      "NoSuchBucket",
    ],
  ];
  for (const [what, s3, code] of cases) {
    const store = LakeStore.fromConfig({ ...config, s3 });
    for (
      const call of [() => store.put("scratch/x", new Uint8Array([1])), () => store.list("x/")]
    ) {
      const { error, ms } = await failure(call());
      assert.equal(error.code, code, `${what}: ${error.message}`);
      assert.equal(error.transient, false, `${what}: permanent`);
      assert.match(error.message, /permanent: not retried/);
      assert.ok(ms < 5000, `${what}: failed fast (${ms.toFixed(0)} ms)`);
    }
  }
});

Deno.test("lake store: error classification", () => {
  const err = (fields: Record<string, unknown>) => Object.assign(new Error("x"), fields);
  const table: [unknown, "transient" | "permanent"][] = [
    [err({ code: "ECONNREFUSED" }), "transient"],
    [err({ code: "ECONNRESET" }), "transient"],
    [err({ code: "ETIMEDOUT" }), "transient"],
    [err({ name: "S3Error", code: "ServiceUnavailable" }), "transient"],
    [err({ name: "S3Error", code: "SlowDown" }), "transient"],
    [err({ name: "S3Error", code: "XMinioServerNotInitialized" }), "transient"],
    [new Error("Request failed after 1 retries: Error: Retryable HTTP status: 503"), "transient"],
    [new Error("socket hang up"), "transient"],
    [err({ name: "S3Error", code: "AccessDenied" }), "permanent"],
    [err({ name: "S3Error", code: "NoSuchBucket" }), "permanent"],
    [err({ name: "S3Error", code: "InvalidAccessKeyId" }), "permanent"],
    [err({ name: "S3Error", code: "SignatureDoesNotMatch" }), "permanent"],
    [err({ name: "S3Error", code: "NoSuchKey" }), "permanent"],
    [err({ name: "InvalidBucketNameError" }), "permanent"],
    [new TypeError("bad argument"), "permanent"],
    [new Error("wrapped", { cause: err({ code: "ECONNRESET" }) }), "transient"],
    ["a string", "permanent"],
  ];
  for (const [e, kind] of table) {
    assert.equal(storeErrorKind(e), kind, String((e as Error).message ?? e));
  }
  const wrapped = new LakeStoreError("put", "k", err({ name: "S3Error", code: "AccessDenied" }));
  assert.equal(storeErrorKind(wrapped), "permanent");
  assert.equal(wrapped.code, "AccessDenied");
  assert.ok(wrapped.cause instanceof Error);
});
