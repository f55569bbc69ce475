/**
 * Subject naming strategies: which registry subject a topic's schema lives
 * under. Confluent's serializers offer the same three.
 *
 * - `topic` (TopicNameStrategy, the default): `<topic>-value`; one record type per topic.
 * - `record` (RecordNameStrategy): `<record full name>`; one contract shared by every topic.
 * - `topic-record` (TopicRecordNameStrategy): `<topic>-<record full name>`; several types per topic.
 *
 * @example
 * ```ts
 * import { subjectName } from "./subjects.ts";
 * console.log(subjectName("topic", "shopstream.orders", "shopstream.order.OrderEvent"));
 * // shopstream.orders-value
 * console.log(subjectName("topic-record", "shopstream.orders", "shopstream.order.OrderEvent"));
 * // shopstream.orders-shopstream.order.OrderEvent
 * ```
 *
 * @module
 */

/**
 * The three strategies.
 *
 * @example
 * ```ts
 * import { SUBJECT_STRATEGIES } from "./subjects.ts";
 * console.log(SUBJECT_STRATEGIES.join(", ")); // topic, record, topic-record
 * ```
 */
export const SUBJECT_STRATEGIES = ["topic", "record", "topic-record"] as const;

/** One of {@linkcode SUBJECT_STRATEGIES}. */
export type SubjectStrategy = typeof SUBJECT_STRATEGIES[number];

/**
 * The subject for a record of `recordName` on `topic` (`isKey` for key schemas).
 *
 * @example
 * ```ts
 * import { subjectName } from "./subjects.ts";
 * console.log(subjectName("record", "any-topic", "shopstream.order.OrderEvent"));
 * // shopstream.order.OrderEvent
 * ```
 */
export function subjectName(
  strategy: SubjectStrategy,
  topic: string,
  recordName: string,
  isKey = false,
): string {
  switch (strategy) {
    case "topic":
      return `${topic}-${isKey ? "key" : "value"}`;
    case "record":
      return recordName;
    case "topic-record":
      return `${topic}-${recordName}`;
    default:
      throw new RangeError(
        `unknown subject strategy "${strategy}": use one of ${SUBJECT_STRATEGIES.join(", ")}`,
      );
  }
}
