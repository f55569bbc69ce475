/**
 * Retriable or fatal? A consumer's handler fails for two kinds of reasons:
 * the world is briefly wrong (a broker moved, a connection dropped, a
 * downstream service timed out: try again) or the record is (bad bytes, a
 * broken contract: retrying changes nothing, send it to the dead-letter
 * topic and go on). {@linkcode classifyError} decides which.
 *
 * @example
 * ```ts
 * import { classifyError, FatalError, RetriableError } from "./errors.ts";
 * console.log(classifyError(new RetriableError("db busy"))); // "retriable"
 * console.log(classifyError(new FatalError("validation", "qty < 0"))); // "fatal"
 * console.log(classifyError(new SyntaxError("Unexpected token"))); // "fatal"
 * ```
 *
 * @module
 */
import { sleep } from "../util/deadline.ts";
import type { DeadLetterReason } from "./dlq.ts";

/** What to do about an error: try again, or give the record up. */
export type ErrorClass = "retriable" | "fatal";

/**
 * Thrown by a handler to say "this may work if tried again".
 *
 * @example
 * ```ts
 * import { RetriableError } from "./errors.ts";
 * async function reserve(call: () => Promise<Response>): Promise<void> {
 *   const res = await call();
 *   if (res.status === 503) throw new RetriableError("inventory service unavailable");
 * }
 * console.log(typeof reserve);
 * ```
 */
export class RetriableError extends Error {
  /** An error with this message (and an optional `cause`). */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "RetriableError";
  }
}

/**
 * Thrown by a handler to say "this record can never be processed", with the
 * dead-letter reason to record.
 *
 * @example
 * ```ts
 * import { FatalError } from "./errors.ts";
 * function validate(order: { customerId?: string }): void {
 *   if (!order.customerId) throw new FatalError("validation", "order has no customer id");
 * }
 * validate({ customerId: "c-7" });
 * ```
 */
export class FatalError extends Error {
  /** The dead-letter reason to record, the message and an optional `cause`. */
  constructor(readonly reason: DeadLetterReason, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "FatalError";
  }
}

/** Node/Deno network error codes that mean "the other side is briefly unavailable". */
const TRANSIENT_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EAI_AGAIN",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
]);

/**
 * Classifies `error`: our own {@linkcode RetriableError} / {@linkcode FatalError}
 * say so; kafkajs errors carry a `retriable` flag; network failures and
 * timeouts are retriable; everything else (a `TypeError`, a `SyntaxError`
 * from bad JSON, a validation failure) is fatal.
 *
 * @example
 * ```ts
 * import { classifyError } from "./errors.ts";
 * const e = Object.assign(new Error("connect failed"), { code: "ECONNREFUSED" });
 * console.log(classifyError(e)); // "retriable"
 * ```
 */
export function classifyError(error: unknown): ErrorClass {
  if (error instanceof RetriableError) return "retriable";
  if (error instanceof FatalError) return "fatal";
  if (error && typeof error === "object") {
    const e = error as { retriable?: unknown; code?: unknown; name?: unknown };
    if (typeof e.retriable === "boolean") return e.retriable ? "retriable" : "fatal";
    if (typeof e.code === "string" && TRANSIENT_CODES.has(e.code)) return "retriable";
    if (e.name === "TimeoutError" || error instanceof Deno.errors.TimedOut) return "retriable";
    if (
      error instanceof Deno.errors.ConnectionRefused ||
      error instanceof Deno.errors.ConnectionReset
    ) return "retriable";
  }
  return "fatal";
}

/**
 * Calls `fn` again while it throws an error {@linkcode classifyError} calls
 * retriable, up to `attempts` calls in all (waiting 200 ms, 400 ms, ...);
 * the last error, or a fatal one, is thrown. For kafkajs calls that kafkajs
 * itself does not retry, such as a group coordinator's NOT_COORDINATOR while
 * leadership settles after a broker restart.
 *
 * @example
 * ```ts
 * import { retryRetriable, RetriableError } from "./errors.ts";
 * let calls = 0;
 * const v = await retryRetriable(() => ++calls < 3 ? Promise.reject(new RetriableError("busy")) : Promise.resolve(calls));
 * console.log(v); // 3
 * ```
 */
export async function retryRetriable<T>(fn: () => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1;; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (attempt >= attempts || classifyError(e) !== "retriable") throw e;
      await sleep(200 * attempt);
    }
  }
}

/**
 * The dead-letter reason for an error that ended a record's processing:
 * a {@linkcode FatalError}'s own reason, `deserialization` for a
 * `SyntaxError` (bytes that do not parse), `retries-exhausted` for a
 * retriable error that outlived its retries, else `processing`.
 *
 * @example
 * ```ts
 * import { deadLetterReason } from "./errors.ts";
 * console.log(deadLetterReason(new SyntaxError("bad JSON"))); // "deserialization"
 * ```
 */
export function deadLetterReason(error: unknown): DeadLetterReason {
  if (error instanceof FatalError) return error.reason;
  if (error instanceof SyntaxError) return "deserialization";
  if (classifyError(error) === "retriable") return "retries-exhausted";
  return "processing";
}

/** Broker answers that refuse a batch for good: nothing was appended, on any attempt. */
const DEFINITE_REFUSALS = new Set([
  "MESSAGE_TOO_LARGE",
  "RECORD_LIST_TOO_LARGE",
  "INVALID_RECORD",
  "INVALID_REQUIRED_ACKS",
  "INVALID_TIMESTAMP",
  "INVALID_TOPIC_EXCEPTION",
  "TOPIC_AUTHORIZATION_FAILED",
  "CLUSTER_AUTHORIZATION_FAILED",
  "UNSUPPORTED_FOR_MESSAGE_FORMAT",
]);

/**
 * Whether a failed send's records are certainly not in the log: the broker
 * refused the batch for a reason that holds on every attempt (too large,
 * invalid, not authorised). Anything else (retries exhausted, a timeout, a
 * broken connection, a partition left unacknowledged) leaves the outcome
 * unknown, and an idempotent `TopicProducer` then stops sending
 * (see `ProducerPoisonedError`).
 *
 * @example
 * ```ts
 * import { refusedForGood } from "./errors.ts";
 * console.log(refusedForGood({ name: "KafkaJSProtocolError", type: "MESSAGE_TOO_LARGE" })); // true
 * console.log(refusedForGood({ name: "KafkaJSNumberOfRetriesExceeded" })); // false
 * ```
 */
export function refusedForGood(error: unknown): boolean {
  return brokerAnswerIn(error, DEFINITE_REFUSALS);
}

/** Broker answers that say it no longer agrees with the producer's sequence numbers. */
const SEQUENCE_LOST = new Set([
  "OUT_OF_ORDER_SEQUENCE_NUMBER",
  "UNKNOWN_PRODUCER_ID",
  "INVALID_PRODUCER_EPOCH",
]);

/**
 * Whether `error` (or an error it was caused by) is a broker saying that an
 * idempotent producer's sequence numbers no longer match its own: after a
 * send whose outcome was unknown, kafkajs has rolled the numbers back although
 * the records may be in the log, and the next batch of another size lands on
 * numbers already used. The batch was refused (nothing of it was written),
 * and every later batch to that partition is refused too: kafkajs has no way
 * back, unlike Java's producer, which bumps its epoch and starts the
 * sequences again. Only a new producer (a new producer id) sends again.
 *
 * @example
 * ```ts
 * import { sequenceLost } from "./errors.ts";
 * console.log(sequenceLost({ name: "KafkaJSProtocolError", type: "OUT_OF_ORDER_SEQUENCE_NUMBER" })); // true
 * console.log(sequenceLost({ name: "KafkaJSProtocolError", type: "NOT_ENOUGH_REPLICAS" })); // false
 * ```
 */
export function sequenceLost(error: unknown): boolean {
  return causeChain(error).some((e) => brokerAnswerIn(e, SEQUENCE_LOST));
}

/**
 * `error` and the errors it was caused by (its `cause`, that one's, ...),
 * outermost first, at most 8: kafkajs wraps a broker's answer in its retry
 * errors.
 *
 * @example
 * ```ts
 * import { causeChain } from "./errors.ts";
 * const e = { name: "KafkaJSNumberOfRetriesExceeded", cause: { name: "KafkaJSConnectionError" } };
 * console.log(causeChain(e).map((x) => x.name)); // ["KafkaJSNumberOfRetriesExceeded", "KafkaJSConnectionError"]
 * ```
 */
export function causeChain(
  error: unknown,
): { name?: string; type?: string; cause?: unknown }[] {
  const chain: { name?: string; type?: string; cause?: unknown }[] = [];
  for (let e = error as (typeof chain)[number] | undefined; e && chain.length < 8;) {
    chain.push(e);
    e = e.cause as typeof e;
  }
  return chain;
}

/**
 * Whether `error` is a broker's answer (a kafkajs protocol error) of one of
 * `types`, kafkajs's names for Kafka's error codes.
 *
 * @example
 * ```ts
 * import { brokerAnswerIn } from "./errors.ts";
 * const e = { name: "KafkaJSProtocolError", type: "MESSAGE_TOO_LARGE" };
 * console.log(brokerAnswerIn(e, new Set(["MESSAGE_TOO_LARGE"]))); // true
 * ```
 */
export function brokerAnswerIn(error: unknown, types: ReadonlySet<string>): boolean {
  const e = error as { name?: string; type?: string } | undefined;
  return e?.name === "KafkaJSProtocolError" && types.has(e.type ?? "");
}
