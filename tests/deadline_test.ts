/** withDeadline (lib/util/deadline.ts): settles like the promise, or names what ran late. */
import assert from "node:assert/strict";
import { withDeadline } from "../lib/util/deadline.ts";

Deno.test("withDeadline", async (t) => {
  await t.step("passes a value and an error through", async () => {
    assert.equal(await withDeadline(Promise.resolve(7), 1000, "seven"), 7);
    await assert.rejects(withDeadline(Promise.reject(new Error("own")), 1000, "x"), /own/);
  });
  await t.step("rejects late work with its name or a message built at expiry", async () => {
    const never = new Promise<never>(() => {});
    await assert.rejects(withDeadline(never, 10, "describeCluster"), {
      message: "describeCluster timed out after 10 ms",
    });
    let count = 1;
    const late = withDeadline(never, 10, () => `read ${count} records`);
    count = 2;
    await assert.rejects(late, { message: "read 2 records" });
  });
});
