/**
 * Module 4, the ShopStream pipeline: regions, the seeded event generator and
 * its independent tally, and the producer service; the lake's
 * currency maths, bronze layout and the sink's building blocks; the
 * pipeline, its monitoring and the lake jobs (silver, gold); and real-time
 * stream processing beside them (`stream/`: event-time windows, a watermark,
 * an order/payment join, exactly-once results; see `stream/mod.ts`).
 *
 * ## The delivery contract
 *
 * What a pipeline run promises, checked at its end against the generator's
 * own {@linkcode Tally} (never against the pipeline's bookkeeping) by an
 * independent read of Kafka's end offsets and of the lake; `deno task
 * pipeline` exits 0 only when every point holds:
 *
 * 1. Produce: every generated record (events, duplicates and deliberately
 *    malformed records) is written with acks=all by an idempotent producer
 *    through verified sends (see the facts in lib/kafka/mod.ts), keyed by
 *    order or session id, to topics of 6 partitions, replication factor 3
 *    and `min.insync.replicas=2`. Each topic's log holds at least what was
 *    produced to it.
 * 2. Bronze: every record that decodes and keeps the contract rules
 *    (`rules.ts`) lands in bronze, in its writer's shape (a v1 row holds null
 *    in v2-only columns): bronze rows per topic = produced - malformed, plus
 *    at most the copies the log itself holds beyond that (a retried send that
 *    landed twice after a broker failure). Nothing is lost, and the sink
 *    writes no row twice.
 * 3. Dead letters: every malformed record (no magic byte, an unknown schema
 *    id, a broken contract rule) reaches the dead-letter topic with its
 *    reason and origin; nothing is dropped. Dead letters >= malformed (a
 *    re-read after a rebalance dead-letters again; equal in a quiet run).
 * 4. Commits follow the lake: a partition's committed offset is the smallest
 *    offset still buffered or uploading, or the last processed + 1 when none
 *    is ({@linkcode OffsetLedger}), so a crash never commits past a record
 *    that is not in MinIO. With the skip rule below, a crash anywhere loses
 *    no row and doubles none.
 * 5. Silver: one row per distinct event id (silver rows = the tally's
 *    distinct events), validated, with EUR amounts at the fixed rates.
 * 6. Gold: `orders_hourly` (orders, revenue, EUR revenue, average basket and
 *    top products per region and UTC hour) equals the tally's gold rows to
 *    the cent.
 * 7. A bounded run ends with no lag left; while it runs, the pipeline serves
 *    the metrics named in `monitoring.ts` and the monitor evaluates the alert
 *    rules defined there.
 *
 * ## The sink's skip rule
 *
 * A bronze object's name carries where its rows came from:
 * `bronze/<topic>/region=<R>/date=<D>/hour=<H>/p<PPP>-<first>-<last>.parquet`,
 * one object per Kafka partition, region and UTC hour of a flush, `first`
 * and `last` its smallest and largest offsets. On every assignment (start,
 * rebalance, restart after a crash) the sink lists the topic's bronze names
 * and, for each (partition, region, date, hour), keeps the largest `last`
 * ({@linkcode lastOffsets}); a record at or below that offset for its group
 * is skipped, not written again. So records re-read after a crash between
 * upload and commit, or after a rebalance, never become a second row. The
 * rule is per group, not per partition, because one partition's regions and
 * hours are flushed at different times: a later offset of one region may be
 * in MinIO while an earlier offset of another is still buffered.
 *
 * @example
 * ```ts
 * import { EventGenerator, Tally } from "./mod.ts";
 * const tally = new Tally();
 * for (const r of new EventGenerator({ seed: 42 }).take(1000)) tally.add(r);
 * console.log(tally.totals().produced); // 1000
 * ```
 *
 * @module
 */
export * from "./batcher.ts";
export * from "./bronze.ts";
export * from "./checks.ts";
export * from "./currency.ts";
export * from "./drain.ts";
export * from "./generator.ts";
export * from "./gold.ts";
export * from "./lake_reader.ts";
export * from "./monitor.ts";
export * from "./monitoring.ts";
export * from "./offsets.ts";
export * from "./pipeline.ts";
export * from "./producer.ts";
export * from "./random.ts";
export * from "./regions.ts";
export * from "./rules.ts";
export * from "./silver.ts";
export * from "./sink.ts";
export * from "./sink_runner.ts";
export * from "./stream/mod.ts";
export * from "./tally.ts";
export * from "./topics.ts";
