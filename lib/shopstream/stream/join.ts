/**
 * A stream-stream interval join of orders with their payments: an order
 * placed at `placedAt` is paid when a captured payment for the same order id
 * arrives with `placedAt <= paidAt <= placedAt + bound`. Pure logic; the
 * caller drops late events first (see `windows.ts`) and advances the join
 * with the watermark.
 *
 * Both sides wait for the other, because the two topics are read
 * independently and a payment can be read before its order:
 *
 * - an order waits until the watermark passes `placedAt + bound`; if no
 *   payment came by then it is **unpaid** (its own output). A matched order
 *   stays until then too, so a re-sent copy of it (or of its payment) is
 *   recognised and not counted twice;
 * - a payment read before its order waits until the watermark passes
 *   `paidAt` (its order, placed no later, would be late from then on); one
 *   still waiting then is an **orphan**.
 *
 * Every change to that state is listed in `changes` (key, JSON or null for a
 * delete) so it can be written to a changelog topic and rebuilt after a
 * restart.
 *
 * @example
 * ```ts
 * import { IntervalJoin } from "./join.ts";
 * const join = new IntervalJoin(60_000);
 * join.addPayment("o-1", "EU", 30_000); // read before its order: waits
 * console.log(join.addOrder("o-1", "EU", 10_000).match?.paidAt); // 30000
 * join.addOrder("o-2", "US", 20_000);
 * console.log(join.expire(80_001).unpaid.map((u) => u.orderId)); // ["o-2"]
 * ```
 *
 * @module
 */

/** An order and how its join ended. */
export interface JoinOutcome {
  /** The order id (the key of both topics). */
  orderId: string;
  /** The order's region. */
  region: string;
  /** When the order was placed (event time, epoch ms). */
  placedAt: number;
  /** When its payment was captured; null for an unpaid order. */
  paidAt: number | null;
  /** `paid`: matched within the bound; `unpaid`: the bound passed without a payment. */
  status: "paid" | "unpaid";
}

/** An order the join holds: waiting for its payment, or paid and kept to recognise copies. */
export interface HeldOrder {
  /** The order's region. */
  region: string;
  /** When it was placed. */
  placedAt: number;
  /** When its payment was captured, or null while it waits. */
  paidAt: number | null;
}

/** A payment read before its order. */
export interface WaitingPayment {
  /** The order id it pays. */
  orderId: string;
  /** The payment's region. */
  region: string;
  /** When it was captured. */
  paidAt: number;
}

/** What adding an order or a payment did. */
export interface JoinStep {
  /** The order it completed, if any. */
  match?: JoinOutcome;
  /** true when it was a copy of something the join already holds (not counted again). */
  duplicate: boolean;
}

/** What a watermark advance released. */
export interface JoinExpiry {
  /** Orders whose bound passed without a payment. */
  unpaid: JoinOutcome[];
  /** Payments whose order never came before the watermark passed them. */
  orphans: WaitingPayment[];
}

/** The changelog key of a held order. */
const ORDER = "order|";
/** The changelog key of a waiting payment. */
const PAYMENT = "payment|";

/**
 * The interval join's state. See the module doc.
 *
 * @example
 * ```ts
 * import { IntervalJoin } from "./join.ts";
 * const join = new IntervalJoin(60_000);
 * join.addOrder("o-1", "EU", 0);
 * console.log(join.addPayment("o-1", "EU", 60_000).match?.status); // paid (the bound is inclusive)
 * console.log(join.addPayment("o-1", "EU", 60_000).duplicate); // true
 * ```
 */
export class IntervalJoin {
  /** The bound: a payment up to this many ms after its order still matches. */
  readonly boundMs: number;
  readonly #orders = new Map<string, HeldOrder>();
  readonly #payments = new Map<string, WaitingPayment>();
  readonly #changes = new Map<string, string | null>();

  /** An empty join with this bound. */
  constructor(boundMs: number) {
    if (!Number.isFinite(boundMs) || boundMs < 0) {
      throw new RangeError(`join bound must be >= 0 ms, got ${boundMs}`);
    }
    this.boundMs = boundMs;
  }

  /** Orders held (waiting or paid), and payments waiting for their order. */
  get size(): { orders: number; payments: number } {
    return { orders: this.#orders.size, payments: this.#payments.size };
  }

  /** Whether the join holds order `orderId`. */
  hasOrder(orderId: string): boolean {
    return this.#orders.has(orderId);
  }

  #putOrder(orderId: string, order: HeldOrder): void {
    this.#orders.set(orderId, order);
    this.#changes.set(ORDER + orderId, JSON.stringify(order));
  }

  /** Adds an order placed at `placedAt`; matches a payment that waits for it. */
  addOrder(orderId: string, region: string, placedAt: number): JoinStep {
    if (this.#orders.has(orderId)) return { duplicate: true };
    const waiting = this.#payments.get(orderId);
    let paidAt: number | null = null;
    if (waiting && waiting.paidAt >= placedAt && waiting.paidAt <= placedAt + this.boundMs) {
      paidAt = waiting.paidAt;
      this.#payments.delete(orderId);
      this.#changes.set(PAYMENT + orderId, null);
    }
    this.#putOrder(orderId, { region, placedAt, paidAt });
    return paidAt === null
      ? { duplicate: false }
      : { duplicate: false, match: { orderId, region, placedAt, paidAt, status: "paid" } };
  }

  /** Adds a payment captured at `paidAt`; matches its order when it is held and within the bound. */
  addPayment(orderId: string, region: string, paidAt: number): JoinStep {
    const order = this.#orders.get(orderId);
    if (order) {
      if (order.paidAt !== null) return { duplicate: true };
      if (paidAt < order.placedAt || paidAt > order.placedAt + this.boundMs) {
        return { duplicate: false }; // outside the bound: no match, the order stays unpaid
      }
      this.#putOrder(orderId, { ...order, paidAt });
      return {
        duplicate: false,
        match: { orderId, region: order.region, placedAt: order.placedAt, paidAt, status: "paid" },
      };
    }
    if (this.#payments.has(orderId)) return { duplicate: true };
    const payment = { orderId, region, paidAt };
    this.#payments.set(orderId, payment);
    this.#changes.set(PAYMENT + orderId, JSON.stringify(payment));
    return { duplicate: false };
  }

  /**
   * Releases what the watermark has passed: orders with `placedAt + bound <
   * watermark` (unpaid ones are returned) and payments with `paidAt <
   * watermark` (returned as orphans).
   */
  expire(watermark: number): JoinExpiry {
    const unpaid: JoinOutcome[] = [];
    const orphans: WaitingPayment[] = [];
    for (const [orderId, o] of this.#orders) {
      if (o.placedAt + this.boundMs >= watermark) continue;
      this.#orders.delete(orderId);
      this.#changes.set(ORDER + orderId, null);
      if (o.paidAt === null) {
        unpaid.push({
          orderId,
          region: o.region,
          placedAt: o.placedAt,
          paidAt: null,
          status: "unpaid",
        });
      }
    }
    for (const [orderId, p] of this.#payments) {
      if (p.paidAt >= watermark) continue;
      this.#payments.delete(orderId);
      this.#changes.set(PAYMENT + orderId, null);
      orphans.push(p);
    }
    unpaid.sort((a, b) => a.placedAt - b.placedAt || (a.orderId < b.orderId ? -1 : 1));
    return { unpaid, orphans };
  }

  /**
   * The state changes since the last call, for the changelog: `[key, JSON]`
   * for a put, `[key, null]` for a delete. Clears the list.
   */
  takeChanges(): [string, string | null][] {
    const out = [...this.#changes];
    this.#changes.clear();
    return out;
  }

  /** Puts back one changelog entry (the latest value of its key) after a restart. */
  restore(key: string, value: string): void {
    if (key.startsWith(ORDER)) {
      this.#orders.set(key.slice(ORDER.length), JSON.parse(value) as HeldOrder);
    } else if (key.startsWith(PAYMENT)) {
      this.#payments.set(key.slice(PAYMENT.length), JSON.parse(value) as WaitingPayment);
    } else {
      throw new RangeError(`not a join changelog key: "${key}"`);
    }
  }
}
