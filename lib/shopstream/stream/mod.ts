/**
 * Real-time stream processing on the ShopStream topics, on kafkajs and
 * lib/kafka only: event-time tumbling windows per region (orders, revenue,
 * average basket, paid orders) closed by a watermark, late events sent to a
 * topic of their own, an interval join of orders with their payments, and
 * exactly-once output through Kafka transactions, with the state rebuilt
 * from the result topics and the committed offsets after a restart.
 *
 * - `windows.ts`, `join.ts`, `state.ts`: the pure logic (no Kafka);
 * - `records.ts`, `topics.ts`, `reader.ts`: the output records, their
 *   topics, and reading a topic back with `read_committed`;
 * - `processor.ts`: the consume-transform-produce loop with transactions;
 * - `compare.ts`: the minute windows rolled up to gold's region-hours and
 *   compared with batch gold to the cent;
 * - `summary.ts`: the task's tables.
 *
 * @example
 * ```ts
 * import { StreamState } from "./mod.ts";
 * const state = new StreamState({ sources: ["orders/0"], windowMs: 60_000, latenessMs: 0 });
 * const order = (time: number, id: string) => ({ type: "order.placed", source: "orders/0",
 *   eventId: id, orderId: id, region: "EU", currency: "EUR", amountMinor: 1000n, time }) as const;
 * const out = state.process([order(1_000, "a"), order(61_000, "b"), order(2_000, "c")]);
 * console.log(out.late.length, out.windows.map((w) => `${w.start}:${w.final}`)); // 1 ["60000:false", "0:true"]
 * ```
 *
 * @module
 */
export * from "./compare.ts";
export * from "./join.ts";
export * from "./processor.ts";
export * from "./reader.ts";
export * from "./records.ts";
export * from "./state.ts";
export * from "./summary.ts";
export * from "./topics.ts";
export * from "./windows.ts";
