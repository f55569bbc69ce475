/**
 * What a stretch of code allocates, from V8's sampling heap profiler
 * (through `node:inspector`, in this process): about one sample per
 * `intervalBytes` allocated, freed objects included, each with the stack
 * that allocated it. Bytes allocated per record is the figure garbage
 * collection follows: every allocated byte is later scavenged or marked.
 * V8's heap only: the contents of `ArrayBuffer`s (the bytes behind a
 * `Uint8Array` or `Buffer`) live outside it and are not sampled, their
 * view objects are.
 *
 * @example
 * ```ts
 * import { sampleAllocations, summarizeAllocations } from "./alloc.ts";
 * const stop = await sampleAllocations();
 * const kept = Array.from({ length: 100_000 }, (_, i) => ({ i }));
 * const summary = summarizeAllocations(await stop(), kept.length);
 * console.log(summary.bytesPerUnit > 0, summary.top[0]);
 * ```
 *
 * @module
 */
/** One node of V8's sampling heap profile (the parts read here). */
export interface AllocationNode {
  /** The function and where it is. */
  readonly callFrame: { readonly functionName: string; readonly url: string };
  /** Bytes sampled as allocated by this function itself. */
  readonly selfSize: number;
  /** Its callees. */
  readonly children: readonly AllocationNode[];
}

/** V8's sampling heap profile (`HeapProfiler.stopSampling`'s `profile`). */
export interface AllocationProfile {
  /** The root of the call tree. */
  readonly head: AllocationNode;
}

/** What {@linkcode summarizeAllocations} makes of a profile. */
export interface AllocationSummary {
  /** Bytes allocated in all, as sampled. */
  readonly bytes: number;
  /** Bytes per unit of work. */
  readonly bytesPerUnit: number;
  /** The functions that allocated most (their own allocations), with their share, largest first. */
  readonly top: readonly { readonly where: string; readonly share: number }[];
}

/**
 * Starts V8's sampling heap profiler with freed objects kept in the
 * profile; the returned function stops it and returns the profile.
 *
 * @example
 * ```ts
 * import { sampleAllocations } from "./alloc.ts";
 * const stop = await sampleAllocations(1024);
 * console.log((await stop()).head.children.length >= 0); // true
 * ```
 */
export async function sampleAllocations(
  intervalBytes = 4096,
): Promise<() => Promise<AllocationProfile>> {
  // Loaded on use: a benchmark that samples nothing should not carry the inspector.
  const { Session } = await import("node:inspector");
  const session = new Session();
  session.connect();
  const post = <T>(method: string, params: object = {}) =>
    new Promise<T>((resolve, reject) =>
      session.post(method, params, (e: Error | null, r?: object) => e ? reject(e) : resolve(r as T))
    );
  await post("HeapProfiler.enable");
  await post("HeapProfiler.startSampling", {
    samplingInterval: intervalBytes,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  return async () => {
    try {
      const { profile } = await post<{ profile: AllocationProfile }>("HeapProfiler.stopSampling");
      return profile;
    } finally {
      await post("HeapProfiler.disable").catch(() => {});
      session.disconnect();
    }
  };
}

/**
 * Bytes allocated in `profile`, per one of `units`, and the `count`
 * functions that allocated most, each named `function file:line`-style by
 * its name and the last two parts of its script's path.
 *
 * @example
 * ```ts
 * import { summarizeAllocations } from "./alloc.ts";
 * const node = (name: string, selfSize: number, children = []) =>
 *   ({ callFrame: { functionName: name, url: `file:///x/lib/${name}.ts` }, selfSize, children });
 * const s = summarizeAllocations({ head: node("(root)", 0, [node("a", 300), node("b", 100)] as never) }, 2);
 * console.log(s.bytesPerUnit, s.top[0]); // 200 { where: "a lib/a.ts", share: 0.75 }
 * ```
 */
export function summarizeAllocations(
  profile: AllocationProfile,
  units: number,
  count = 8,
): AllocationSummary {
  const byWhere = new Map<string, number>();
  let bytes = 0;
  const walk = (node: AllocationNode) => {
    if (node.selfSize > 0) {
      bytes += node.selfSize;
      const path = node.callFrame.url.split("?")[0].split("/").slice(-2).join("/");
      const where = `${node.callFrame.functionName || "(anonymous)"} ${path}`.trim();
      byWhere.set(where, (byWhere.get(where) ?? 0) + node.selfSize);
    }
    for (const child of node.children) walk(child);
  };
  walk(profile.head);
  const top = [...byWhere]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([where, n]) => ({ where, share: bytes > 0 ? n / bytes : 0 }));
  return { bytes, bytesPerUnit: units > 0 ? bytes / units : NaN, top };
}
