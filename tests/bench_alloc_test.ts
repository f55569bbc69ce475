/**
 * lib/bench/alloc.ts: the summary of a sampling heap profile (pure), and
 * the sampler on this process: a loop that allocates a known amount is
 * measured within a factor of the truth and named as the top allocator.
 */
import assert from "node:assert/strict";
import {
  type AllocationNode,
  sampleAllocations,
  summarizeAllocations,
} from "../lib/bench/alloc.ts";

const node = (
  functionName: string,
  url: string,
  selfSize: number,
  children: AllocationNode[] = [],
): AllocationNode => ({ callFrame: { functionName, url }, selfSize, children });

Deno.test("summarizeAllocations: bytes per unit, functions by their own bytes, merged by place", () => {
  const head = node("(root)", "", 0, [
    node("decode", "file:///r/lib/kafka/fetch.ts", 600, [node("", "file:///r/lib/x.ts", 100)]),
    node("cells", "file:///r/lib/shopstream/bronze.ts?v=1", 200),
    node("decode", "file:///r/lib/kafka/fetch.ts", 100), // the same function by another path
  ]);
  const s = summarizeAllocations({ head }, 10, 2);
  assert.equal(s.bytes, 1000);
  assert.equal(s.bytesPerUnit, 100);
  assert.deepEqual(s.top, [
    { where: "decode kafka/fetch.ts", share: 0.7 },
    { where: "cells shopstream/bronze.ts", share: 0.2 },
  ]);
  assert.ok(Number.isNaN(summarizeAllocations({ head }, 0).bytesPerUnit), "no units, no rate");
});

Deno.test("sampleAllocations: ~16 MB allocated on V8's heap is measured near that, named first", async () => {
  const stop = await sampleAllocations(1024);
  const kept: number[][] = [];
  function allocateBlocks() {
    // 4096 arrays of 512 doubles: 4 KiB each on V8's heap, plus headers.
    for (let i = 0; i < 4096; i++) kept.push(new Array(512).fill(i + 0.5));
  }
  allocateBlocks();
  const s = summarizeAllocations(await stop(), kept.length);
  assert.ok(s.bytesPerUnit > 2000 && s.bytesPerUnit < 10_000, `${s.bytesPerUnit} B per block`);
  assert.match(s.top[0].where, /allocateBlocks/, JSON.stringify(s.top));
});

Deno.test("sampleAllocations: an ArrayBuffer's contents are outside V8's heap, not sampled", async () => {
  const stop = await sampleAllocations(1024);
  const kept: Uint8Array[] = [];
  for (let i = 0; i < 4096; i++) kept.push(new Uint8Array(4096));
  const s = summarizeAllocations(await stop(), kept.length);
  assert.ok(s.bytesPerUnit < 1000, `${s.bytesPerUnit} B per 4 KiB array: the view objects only`);
});
