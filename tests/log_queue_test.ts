/**
 * Unit: the work queue notebook 01 contrasts with the log: FIFO, reads that
 * remove, competing consumers.
 */
import assert from "node:assert/strict";
import { WorkQueue } from "../lib/log/queue.ts";

Deno.test("WorkQueue", async (t) => {
  await t.step("first in, first out; taking removes", () => {
    const q = new WorkQueue<string>();
    ["a", "b", "c"].forEach((m) => q.enqueue(m));
    assert.equal(q.size, 3);
    assert.equal(q.take(), "a");
    assert.equal(q.size, 2);
    assert.equal(q.taken, 1);
    assert.deepEqual([q.take(), q.take(), q.take()], ["b", "c", undefined]);
    assert.equal(q.taken, 3);
  });
  await t.step("competing consumers: every message goes to exactly one", () => {
    const q = new WorkQueue<number>();
    for (let i = 0; i < 3000; i++) q.enqueue(i);
    const got: number[][] = [[], [], []];
    for (let turn = 0, m = q.take(); m !== undefined; turn++, m = q.take()) got[turn % 3].push(m);
    assert.deepEqual(got.map((g) => g.length), [1000, 1000, 1000]);
    assert.deepEqual(got.flat().sort((a, b) => a - b), Array.from({ length: 3000 }, (_, i) => i));
    assert.equal(q.size, 0, "nothing left for a late consumer");
    q.enqueue(-1);
    assert.equal(q.take(), -1, "still works after compacting its storage");
  });
});
