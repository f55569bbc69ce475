/**
 * Module 2's Kafka library: the client factory, a topic producer, a group
 * consumer, cluster administration, partitioners, metrics, error
 * classification, the dead-letter contract and the delivery-semantics
 * processors.
 *
 * ## Facts this library relies on
 *
 * Read in kafkajs 2.2.4's source and reproduced against the live cluster.
 * Code elsewhere cites this section ("see the facts in lib/kafka/mod.ts")
 * instead of repeating it.
 *
 * ### kafkajs drops acknowledged records when a leader dies or moves mid-send
 *
 * One `producer.send()` keeps a map of responses per broker across its
 * retries, and a retry sends only to brokers that have no stored response.
 * When a partition's leader dies or moves during a send and the new leader
 * is a broker that already answered for other partitions, that partition is
 * never sent again: the send resolves without an error, with the other
 * partitions' metadata only, and the partition's records are not in the log.
 * `acks`, `enforceRequestTimeout` and `maxInFlightRequests` do not help (the
 * map lives inside one send). It is reported to kafkajs and unfixed in
 * 2.2.4 (a proposed fix was not merged). `deno task drill broker-kill
 * --client raw` shows it on the running cluster (figures in BENCHMARKS.md).
 *
 * What this library does about it ({@linkcode sendVerified}, `verified.ts`):
 *
 * - every record's partition is fixed before kafkajs sees it (a key placed
 *   by Java's murmur2, an explicit partition, or {@linkcode TopicProducer}'s
 *   keyless strategy), so the partitions a send targets are known;
 * - the partitions acknowledged in the answer are compared with the
 *   partitions targeted, and the records of every missing partition are sent
 *   again (at most 5 sends, then {@linkcode UnacknowledgedError} names them);
 * - the producer is idempotent ({@linkcode TopicProducer}'s default with
 *   acks=all): kafkajs rolls a partition's sequence number back when its
 *   request fails, so a re-send carries the sequence of the lost attempt and
 *   the broker discards it if that attempt was written after all.
 *
 * Every send this project promises to keep goes through it:
 * {@linkcode TopicProducer}, dead letters (`dlq.ts`), the delivery-semantics
 * processors, and through them the ShopStream producer service. The native
 * Schema Registry checks its `_schemas` writes the same way (partition 0 must
 * be in the answer). Copies the broker still keeps twice are counted by the
 * readers, which count by record or event id.
 *
 * ### kafkajs writes a batch twice when a send's other request is slow
 *
 * The same bookkeeping has a second hole. When one broker's request of a
 * send fails while another broker's request of the same send is still
 * waiting (acks=all with a dead follower still in the ISR can take seconds),
 * kafkajs retries at once and sends the slow broker's partitions again.
 * The idempotent producer's per-broker lock makes the retry wait until the
 * first request is answered, and then gives the retry the next sequence
 * numbers: the broker writes the same records a second time. Seen on the
 * running cluster: 13 to 38 extra copies in some drill runs
 * (`deno task drill producer-task` with the old producer, BENCHMARKS.md).
 *
 * Both holes need a send that spans several leaders. So every send this
 * library makes has one partition: {@linkcode TopicProducer} sends each
 * partition's batch on its own, and dead letters, the delivery-semantics
 * processors and the stream processor's transactions go through
 * {@linkcode sendByPartition} (one {@linkcode sendVerified} per partition,
 * all at once). Each send has one leader at a time, one request per
 * attempt, nothing left to drop or to send twice. The guard above stays,
 * for every send, as a check. A transaction is no shield: the second copy
 * is written inside it and committed with it (for the stream processor, a
 * window's final result twice in its compacted topic).
 *
 * ### Bounded retries and idempotence
 *
 * kafkajs warns that bounding an idempotent producer's retries "may
 * invalidate EoS guarantees", and it is right: a send that gives up may have
 * been written, its sequence numbers are rolled back, and the next batch to
 * that partition reuses them, so the broker can acknowledge that batch as a
 * duplicate without writing it. {@linkcode TopicProducer} bounds retries (a
 * send must fail in bounded time) and closes the hole: after a send whose
 * outcome is unknown, every later send fails with
 * {@linkcode ProducerPoisonedError} until `connect()` makes a new producer
 * (a new producer id). `client.ts` shows kafkajs's warning once per process,
 * with that explanation.
 *
 * When the next batch differs in size from the one that gave up, the broker
 * sees sequence numbers it already holds for other records and answers
 * OUT_OF_ORDER_SEQUENCE_NUMBER, for that batch and every later one: Java's
 * producer bumps its epoch and numbers from 0 again, kafkajs has no way
 * back ({@linkcode sequenceLost}; `tests/producer_faults_test.ts` makes a
 * send give up with a 0 ms produce timeout and pins the broker's answer).
 *
 * And every producer gives up sooner than kafkajs's documentation says:
 * `Kafka.producer()` passes the client's retry options down as an object,
 * so an idempotent producer made without `retry` gets the retrier's default
 * of 5 retries, not the unlimited retries documented for idempotence, and
 * no warning. With a leader SIGKILLed under the pipeline, the sink's
 * dead-letter send ran out of them (connection refused), its consumer
 * restarted and read again from its last commit, and the next letters,
 * a batch of another size, were refused as above: the sink crashed. So the
 * dead-letter writer (`dlq.ts`) retires its producer after any send whose
 * outcome is unknown, and sends a refused letter again with a fresh one.
 *
 * ### kafkajs reorders concurrent sends to one partition
 *
 * Two `send()` calls in flight to the same partition can reach the broker in
 * either order, even with an idempotent producer, so records of one key land
 * out of order (the order-per-key test in `tests/kafka_clients_test.ts`
 * caught it). So {@linkcode TopicProducer} keeps at most one request in
 * flight per partition and gets its concurrency from several partitions'
 * batches travelling at once (`maxInFlight`).
 *
 * ### kafkajs shares a group's offset cache among one client's consumers
 *
 * A `Kafka` client keeps one map of committed offsets per group id, and every
 * consumer made from that client uses it. Each time a member (re)joins, its
 * new offset manager clears the group's entry, so two members of one group on
 * one client clear each other's offsets in every rebalance; the other one
 * then reads an offset that is gone and crashes inside kafkajs (`Cannot read
 * properties of undefined`), for good. A group of six on one partition hit it
 * in about half of the runs. So {@linkcode GroupConsumer} makes its consumer
 * on a client of its own ({@linkcode siblingClient}); the others share none.
 *
 * ### kafkajs's produce path costs more per record than the protocol needs
 *
 * kafkajs encodes every record into its own growing `Buffer`, copies it
 * four times on the way into the request, checksums each batch one byte at
 * a time, and groups a send's records by partition with a copy of the
 * partition's list per record (n²/2 copies for a send of n records). A CPU
 * profile of {@linkcode TopicProducer} (512 B records, acks=all) put 45% of
 * the process's time in the encoding and, with 1 MB requests, a quarter in
 * the grouping. `produce_encoder.ts` writes the same bytes into one buffer
 * with a slice-by-8 CRC-32C (`crc32c.ts`), and `grouping.ts` gives
 * {@linkcode TopicProducer} a kafkajs producer that groups in linear time;
 * both fall back to kafkajs's own code when it is not the expected shape,
 * and the unit tests pin them byte for byte against kafkajs.
 *
 * The fetch path likewise: kafkajs decodes each fetched record through a
 * `Decoder` object and a `Buffer` of its own, with `BigInt`-backed `Long`s
 * for its offset and timestamp parsed from the batch's decimal strings; a
 * heap profile of the lake sink put a third of its allocated bytes there.
 * `fetch_decoder.ts` reads uncompressed batches with plain numbers into
 * records of kafkajs's exact shape (kafkajs decodes the rest);
 * `tests/kafka_fetch_test.ts` compares the two on every kind of batch and
 * thousands of corrupted ones. Neither checks a batch's CRC-32C, which
 * Java's consumer does by default (`check.crcs=true`).
 *
 * ### kafkajs resets a group's offsets by joining the group
 *
 * `admin.setOffsets` subscribes a throwaway consumer to the group, seeks,
 * and leaves at its first fetch: about 5 s per topic (a fresh
 * `deno task pipeline` spent 20 s on its four topics before producing).
 * Kafka's own tools send one OffsetCommit to the group's coordinator with
 * generation -1 and no member id, which the coordinator accepts only from an
 * empty group (`UNKNOWN_MEMBER_ID` otherwise). `group_offsets.ts` sends that
 * request through the client's own cluster, and
 * {@linkcode ClusterAdmin.resetOffsets} uses it after checking the group is
 * empty; it falls back to `setOffsets` when kafkajs is not the expected
 * shape.
 *
 * ### Negative timers under Deno
 *
 * kafkajs's request queue schedules its next check with
 * `setTimeout(fn, throttledUntil - Date.now())`, a negative delay when
 * nothing is throttled. Deno's Node timer shim runs such a timer at once and
 * warns (`TimeoutNegativeWarning`) every time; `client.ts` drops exactly that
 * warning.
 *
 * A `MaxListenersExceededWarning` about `connect` listeners on a `Socket`,
 * seen after a broker dies, is kafkajs too: each disconnect calls
 * `socket.unref()`, which `net` defers to the socket's `connect` event while
 * it is not connected, one listener per call, so they pile up on a socket
 * the dead broker refused (the stack, from a warning handler in the sink's
 * worker, ends in kafkajs's `Connection.disconnect`). Left as it is: Node
 * prints it once per process, and the pipeline-kill drill passes every check
 * in the runs that print it.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { ClusterAdmin, createKafka, TopicProducer } from "./mod.ts";
 * const kafka = createKafka(loadConfig());
 * const admin = new ClusterAdmin(kafka);
 * await admin.connect();
 * await admin.createTopic("demo", { partitions: 3 });
 * await admin.disconnect();
 * const producer = new TopicProducer(kafka, { topic: "demo" });
 * await producer.connect();
 * await producer.send([{ key: "k", value: "v" }]);
 * await producer.disconnect();
 * ```
 *
 * @module
 */
export * from "./admin.ts";
export * from "./cli.ts";
export * from "./client.ts";
export * from "./codecs.ts";
export * from "./consumer.ts";
export * from "./crc32c.ts";
export * from "./dlq.ts";
export * from "./errors.ts";
export * from "./fetch_decoder.ts";
export * from "./group_offsets.ts";
export * from "./grouping.ts";
export * from "./metrics.ts";
export * from "./partitioners.ts";
export * from "./produce_encoder.ts";
export * from "./producer.ts";
export * from "./semantics.ts";
export * from "./topic_offsets.ts";
export * from "./varint.ts";
export * from "./verified.ts";
