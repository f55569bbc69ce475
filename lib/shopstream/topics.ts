/**
 * The ShopStream topics: which event topics there are, the schema family each
 * carries, and the names of one run's topics. Kept apart from the generator so
 * that naming topics does not load Faker.
 *
 * @example
 * ```ts
 * import { familyTopics, topicsUnder } from "./topics.ts";
 * console.log(familyTopics(topicsUnder("demo")).payment); // demo.payments
 * ```
 *
 * @module
 */
import type { Config } from "../config.ts";
import type { FamilyName } from "../schema/catalog.ts";

/** Topic names of a run: the four event topics and the dead-letter topic. */
export type ShopTopics = Config["topics"];

/** The config key (`config.topics.<key>`) of each event topic. */
export type TopicKey = "orders" | "payments" | "shipments" | "clickstream";

/**
 * The event topics, in a fixed order.
 *
 * @example
 * ```ts
 * import { TOPIC_KEYS } from "./topics.ts";
 * console.log(TOPIC_KEYS.join(",")); // orders,payments,shipments,clickstream
 * ```
 */
export const TOPIC_KEYS: readonly TopicKey[] = ["orders", "payments", "shipments", "clickstream"];

/**
 * The schema family (folder under `schemas/`) written to each topic.
 *
 * @example
 * ```ts
 * import { FAMILY_OF } from "./topics.ts";
 * console.log(FAMILY_OF.orders); // order
 * ```
 */
export const FAMILY_OF: Readonly<Record<TopicKey, FamilyName>> = {
  orders: "order",
  payments: "payment",
  shipments: "shipment",
  clickstream: "clickstream",
};

/**
 * The topics of a run named under `base` (`<base>.orders`, ..., `<base>.dlq`):
 * tests, benchmarks and notebooks keep their runs apart this way.
 *
 * @example
 * ```ts
 * import { topicsUnder } from "./topics.ts";
 * console.log(topicsUnder("bench.1").deadLetter); // bench.1.dlq
 * ```
 */
export function topicsUnder(base: string): ShopTopics {
  return {
    orders: `${base}.orders`,
    payments: `${base}.payments`,
    shipments: `${base}.shipments`,
    clickstream: `${base}.clickstream`,
    deadLetter: `${base}.dlq`,
  };
}

/**
 * The event topics keyed by the schema family written to each (the lake
 * sink's `topics` option).
 *
 * @example
 * ```ts
 * import { familyTopics, topicsUnder } from "./topics.ts";
 * console.log(familyTopics(topicsUnder("t")).order); // t.orders
 * ```
 */
export function familyTopics(topics: ShopTopics): Record<FamilyName, string> {
  return Object.fromEntries(TOPIC_KEYS.map((k) => [FAMILY_OF[k], topics[k]])) as Record<
    FamilyName,
    string
  >;
}
