/**
 * What the suite relies on to catch unhandled promise rejections: Deno's
 * test runner fails a test file that leaves one, whether it happens inside
 * a test or from a timer or callback the test left behind (the op sanitizer
 * keeps such a timer from outliving its test). So no guard is needed in the
 * tests; this pins the runner's behaviour by running small test files in a
 * child `deno test` and reading its verdict.
 */
import assert from "node:assert/strict";

async function denoTest(source: string): Promise<{ code: number; output: string }> {
  const dir = await Deno.makeTempDir({ prefix: "shopstream-rejection-" });
  try {
    await Deno.writeTextFile(`${dir}/fixture_test.ts`, source);
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["test", "--no-config", "--no-check", "--quiet", `${dir}/fixture_test.ts`],
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const output = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    return { code: out.code, output };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("an unhandled rejection inside a test fails its file", async () => {
  const r = await denoTest(`
    Deno.test("leaves a rejection", async () => {
      Promise.reject(new Error("dangling"));
      await new Promise((r) => setTimeout(r, 10));
    });
  `);
  assert.notEqual(r.code, 0, r.output);
  assert.match(r.output, /\(in promise\) Error: dangling/);
  assert.match(r.output, /uncaught error/);
});

Deno.test("a rejection from a callback left behind fails the file too", async () => {
  const r = await denoTest(`
    Deno.test("leaves a timer that rejects", () => {
      setTimeout(() => Promise.reject(new Error("late")), 20);
    });
    Deno.test("a later test", async () => {
      await new Promise((r) => setTimeout(r, 100));
    });
  `);
  assert.notEqual(r.code, 0, r.output);
  assert.match(r.output, /late/);
  assert.match(r.output, /FAILED/);
});

Deno.test("a handled rejection passes (the fixture itself can pass)", async () => {
  const r = await denoTest(`
    Deno.test("handles it", async () => {
      await Promise.reject(new Error("handled")).catch(() => {});
    });
  `);
  assert.equal(r.code, 0, r.output);
});
