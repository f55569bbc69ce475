/**
 * The stream processor's whole state machine, without Kafka: events in,
 * results out. It combines the watermark and the tumbling windows
 * (`windows.ts`) with the order/payment join (`join.ts`):
 *
 * 1. each event is first checked against the watermark: a late one goes to
 *    the late output and changes nothing else;
 * 2. then its input partition's time advances;
 * 3. an `order.placed` opens or updates its window (orders, revenue) and
 *    enters the join; a copy of an order the join still holds is a
 *    duplicate and is not counted; a `payment.captured` enters the join,
 *    and a match counts one paid order in the window of the payment's time;
 * 4. after the batch, windows that the watermark has passed close (their
 *    final results), and the join releases unpaid orders and orphan
 *    payments.
 *
 * Why a re-sent copy can never be counted twice: a copy carries its
 * original's event time `t`. While the join holds the original (until the
 * watermark passes `t + bound`), the copy is recognised; after that, `t` is
 * below the watermark and the copy is late.
 *
 * `process` returns what to write: window updates (`final: false`) for the
 * windows the batch touched and still open, final results for the windows
 * that closed, late events, join outcomes and the join's changelog entries.
 * The Kafka side (`processor.ts`) writes them and the input offsets in one
 * transaction.
 *
 * @example
 * ```ts
 * import { StreamState } from "./state.ts";
 * const state = new StreamState({ sources: ["orders/0", "payments/0"], windowMs: 60_000,
 *   latenessMs: 5_000, joinBoundMs: 30_000 });
 * const order = { type: "order.placed", source: "orders/0", eventId: "e1", orderId: "o-1",
 *   region: "EU", currency: "EUR", amountMinor: 2500n, time: 10_000 } as const;
 * const paid = { ...order, type: "payment.captured", source: "payments/0", eventId: "e2",
 *   time: 20_000 } as const;
 * state.process([order]);
 * const out = state.process([paid]);
 * console.log(out.joined[0].status, out.windows[0].paid); // paid 1
 * console.log(state.finish().windows.map((w) => [w.orders, w.revenueMinor, w.final])); // [[1, 2500n, true]]
 * ```
 *
 * @module
 */
import { IntervalJoin, type JoinOutcome } from "./join.ts";
import { MINUTE_MS, TumblingWindows, Watermark, type WindowResult } from "./windows.ts";

/** The event types the stream processor reads; every other type is skipped. */
export type StreamEventType = "order.placed" | "payment.captured";

/** One input event, reduced to what the stream processor uses. */
export interface StreamEvent {
  /** `order.placed` or `payment.captured`. */
  type: StreamEventType;
  /** The input partition it came from, e.g. `shopstream.orders/3` (a watermark source). */
  source: string;
  /** Its offset in that partition, when read from Kafka. */
  offset?: string;
  /** The event's id. */
  eventId: string;
  /** The order it belongs to. */
  orderId: string;
  /** The region. */
  region: string;
  /** The currency of `amountMinor`. */
  currency: string;
  /** The order's total, or the payment's amount, in minor units. */
  amountMinor: bigint;
  /** Event time (`envelope.occurredAt`), epoch ms. */
  time: number;
}

/** An event that arrived below the watermark. */
export interface LateEvent {
  /** The event. */
  event: StreamEvent;
  /** The watermark when it arrived. */
  watermark: number;
}

/** What one step produced, to be written together. */
export interface StepOutput {
  /** Updates of windows the step touched (`final: false`) and final results of closed windows. */
  windows: WindowResult[];
  /** Events that arrived below the watermark. */
  late: LateEvent[];
  /** Orders matched with their payment, and orders whose bound passed unpaid. */
  joined: JoinOutcome[];
  /** The join's changelog entries (`[key, JSON]`, `[key, null]` to delete). */
  changes: [string, string | null][];
}

/** Counts since the state was created (not restored after a restart). */
export interface StreamCounters {
  /** Events processed (late ones included). */
  events: number;
  /** Orders counted in a window. */
  orders: number;
  /** Captured payments taken by the join. */
  payments: number;
  /** Copies of an order or payment already held, not counted again. */
  duplicates: number;
  /** Events below the watermark, sent to the late output. */
  late: number;
  /** Window updates produced while windows were open (one per window touched by a step). */
  windowUpdates: number;
  /** Windows closed (final results produced). */
  windowsClosed: number;
  /** Orders matched with their payment within the bound. */
  paid: number;
  /** Orders whose bound passed without a payment. */
  unpaid: number;
  /** Payments whose order never came before the watermark passed them. */
  orphanPayments: number;
}

/** Options of {@linkcode StreamState}. */
export interface StreamStateOptions {
  /** The input partitions (watermark sources), e.g. `["shopstream.orders/0", ...]`. */
  sources: readonly string[];
  /** Tumbling window size, ms (default one minute). */
  windowMs?: number;
  /** Allowed lateness behind the slowest partition's time, ms (default 10 s). */
  latenessMs?: number;
  /** A payment up to this many ms after its order still pays it (default one minute). */
  joinBoundMs?: number;
}

/**
 * The defaults of {@linkcode StreamStateOptions}.
 *
 * @example
 * ```ts
 * import { STREAM_DEFAULTS } from "./state.ts";
 * console.log(STREAM_DEFAULTS); // { windowMs: 60000, latenessMs: 10000, joinBoundMs: 60000 }
 * ```
 */
export const STREAM_DEFAULTS: Readonly<
  Required<Omit<StreamStateOptions, "sources">>
> = Object.freeze({ windowMs: MINUTE_MS, latenessMs: 10_000, joinBoundMs: 60_000 });

/** What a restart puts back (see {@linkcode StreamState.restore}). */
export interface RestoredState {
  /** The latest result of every window key in the result topic. */
  windows: Iterable<WindowResult>;
  /** The latest value of every key in the join's changelog (deleted keys left out). */
  join: Iterable<[string, string]>;
  /** Each source's partition time, from the committed offsets' metadata. */
  partitionTimes: Record<string, number>;
}

function emptyCounters(): StreamCounters {
  return {
    events: 0,
    orders: 0,
    payments: 0,
    duplicates: 0,
    late: 0,
    windowUpdates: 0,
    windowsClosed: 0,
    paid: 0,
    unpaid: 0,
    orphanPayments: 0,
  };
}

/**
 * Watermark + windows + join. See the module doc.
 *
 * @example
 * ```ts
 * import { StreamState } from "./state.ts";
 * const state = new StreamState({ sources: ["orders/0"], latenessMs: 0 });
 * const e = (time: number, id: string) => ({ type: "order.placed", source: "orders/0", eventId: id,
 *   orderId: id, region: "US", currency: "USD", amountMinor: 100n, time }) as const;
 * const out = state.process([e(70_000, "a"), e(50_000, "b")]);
 * console.log(out.late.length, out.windows.map((w) => [w.start, w.final])); // 1 [[60000, false]]
 * ```
 */
export class StreamState {
  /** Tumbling window size, ms. */
  readonly windowMs: number;
  /** Allowed lateness, ms. */
  readonly latenessMs: number;
  /** The join's bound, ms. */
  readonly joinBoundMs: number;
  readonly #watermark: Watermark;
  readonly #windows: TumblingWindows;
  readonly #join: IntervalJoin;
  readonly #counters = emptyCounters();

  /** An empty state over these sources. */
  constructor(options: StreamStateOptions) {
    this.windowMs = options.windowMs ?? STREAM_DEFAULTS.windowMs;
    this.latenessMs = options.latenessMs ?? STREAM_DEFAULTS.latenessMs;
    this.joinBoundMs = options.joinBoundMs ?? STREAM_DEFAULTS.joinBoundMs;
    this.#watermark = new Watermark(options.sources, this.latenessMs);
    this.#windows = new TumblingWindows(this.windowMs);
    this.#join = new IntervalJoin(this.joinBoundMs);
  }

  /** The watermark now (see {@linkcode Watermark}). */
  get watermark(): number {
    return this.#watermark.value;
  }

  /** The largest event time seen on `source`. */
  partitionTime(source: string): number {
    return this.#watermark.partitionTime(source);
  }

  /** Counts so far. */
  get counters(): StreamCounters {
    return { ...this.#counters };
  }

  /** Windows open now, and what the join holds. */
  get held(): { windows: number; orders: number; payments: number } {
    return { windows: this.#windows.size, ...this.#join.size };
  }

  /** The open windows' current results. */
  openWindows(): WindowResult[] {
    return this.#windows.open();
  }

  /** Processes a batch of events in order, then advances; returns what to write. */
  process(events: Iterable<StreamEvent>): StepOutput {
    const late: StepOutput["late"] = [];
    const joined: JoinOutcome[] = [];
    const touched = new Set<string>();
    const c = this.#counters;
    for (const e of events) {
      c.events++;
      if (this.#watermark.isLate(e.time)) {
        late.push({ event: e, watermark: this.#watermark.value });
        c.late++;
        continue;
      }
      this.#watermark.observe(e.source, e.time);
      if (e.type === "order.placed") {
        const step = this.#join.addOrder(e.orderId, e.region, e.time);
        if (step.duplicate) {
          c.duplicates++;
          continue;
        }
        c.orders++;
        touched.add(this.#windows.addOrder(e.time, e.region, e.currency, e.amountMinor));
        if (step.match) this.#paid(step.match, e.currency, joined, touched);
      } else {
        const step = this.#join.addPayment(e.orderId, e.region, e.time);
        if (step.duplicate) {
          c.duplicates++;
          continue;
        }
        c.payments++;
        if (step.match) this.#paid(step.match, e.currency, joined, touched);
      }
    }
    return this.#advance(touched, late, joined);
  }

  /** End of input: the watermark goes to +Infinity, every window closes, every order is decided. */
  finish(): StepOutput {
    this.#watermark.end();
    return this.#advance(new Set(), [], []);
  }

  #paid(match: JoinOutcome, currency: string, joined: JoinOutcome[], touched: Set<string>): void {
    this.#counters.paid++;
    joined.push(match);
    touched.add(this.#windows.addPaid(match.paidAt!, match.region, currency));
  }

  #advance(touched: Set<string>, late: StepOutput["late"], joined: JoinOutcome[]): StepOutput {
    const wm = this.#watermark.value;
    const closed = this.#windows.closeUpTo(wm);
    const windows: WindowResult[] = [];
    for (const key of [...touched].sort()) {
      const r = this.#windows.result(key);
      if (r) windows.push(r); // still open: an update
    }
    this.#counters.windowUpdates += windows.length;
    this.#counters.windowsClosed += closed.length;
    windows.push(...closed);
    const { unpaid, orphans } = this.#join.expire(wm);
    this.#counters.unpaid += unpaid.length;
    this.#counters.orphanPayments += orphans.length;
    joined.push(...unpaid);
    return { windows, late, joined, changes: this.#join.takeChanges() };
  }

  /**
   * Puts back what a previous run committed: open windows (their latest
   * result, not final), the join's entries, the partition times; the
   * watermark never falls below the end of a window that already closed.
   * Call before the first `process`.
   */
  restore(restored: RestoredState): void {
    let closedUpTo = -Infinity;
    for (const r of restored.windows) {
      if (r.final) closedUpTo = Math.max(closedUpTo, r.end);
      else this.#windows.restore(r);
    }
    for (const [key, value] of restored.join) this.#join.restore(key, value);
    for (const [source, time] of Object.entries(restored.partitionTimes)) {
      if (this.#watermark.sources.includes(source)) this.#watermark.observe(source, time);
    }
    this.#watermark.raiseTo(closedUpTo);
  }
}
