/**
 * The KRaft metadata quorum: parsing Kafka's `kafka-metadata-quorum` output,
 * the health row built from it, the live quorum (its leader is a voter, and
 * the controller id brokers report is not it), and a controller stopped
 * (SIGSTOP of the Raft leader's process): the quorum elects another leader in
 * a higher epoch, health still has a leader, and after SIGCONT the node comes
 * back as a caught-up follower. The fault test needs the cluster alone: run
 * it under `flock -x /tmp/shopstream-fault.lock`.
 */
import assert from "node:assert/strict";
import { createKafka } from "../lib/kafka/client.ts";
import {
  checkKafka,
  checkQuorum,
  describeQuorum,
  parseQuorumReplication,
  parseQuorumSummary,
  quorumHealth,
  type QuorumStatus,
} from "../lib/observe/mod.ts";
import { openStack, stackPaths } from "../lib/stack/mod.ts";
import { JavaToolError } from "../lib/util/mod.ts";
import { config, requireKafka, waitFor } from "./support.ts";

// Captured from Kafka 4.4's tool against this course's native cluster.
const STATUS = [
  "ClusterId:              Vf7XF30CR3CCZjFlrD7pTA",
  "LeaderId:               3",
  "LeaderEpoch:            1",
  "HighWatermark:          642",
  "MaxFollowerLag:         0",
  "MaxFollowerLagTimeMs:   398",
  'CurrentVoters:          [{"id": 1, "endpoints": ["CONTROLLER://127.0.0.1:19093"]}, ' +
  '{"id": 2, "endpoints": ["CONTROLLER://127.0.0.1:19094"]}, ' +
  '{"id": 3, "endpoints": ["CONTROLLER://127.0.0.1:19095"]}]',
  "CurrentObservers:       []",
  "",
].join("\n");

const REPLICATION = [
  "[java WARN] org.apache.kafka.clients.admin: something unrelated",
  "NodeId\tDirectoryId           \tLogEndOffset\tLag\tLastFetchTimestamp\tLastCaughtUpTimestamp\tStatus  \t",
  "3     \tAAAAAAAAAAAAAAAAAAAAAA\t646         \t0  \t1796478597090     \t1796478597090        \tLeader  \t",
  "1     \tAAAAAAAAAAAAAAAAAAAAAA\t646         \t0  \t1796478597031     \t1796478597031        \tFollower\t",
  "2     \tAAAAAAAAAAAAAAAAAAAAAA\t610         \t36 \t1796478590000     \t1796478580000        \tFollower\t",
  "4     \tAAAAAAAAAAAAAAAAAAAAAA\t646         \t0  \t1796478597000     \t1796478597000        \tObserver\t",
  "",
].join("\n");

Deno.test("quorum: parses describe --status", () => {
  const s = parseQuorumSummary(STATUS);
  assert.equal(s.clusterId, "Vf7XF30CR3CCZjFlrD7pTA");
  assert.equal(s.leaderId, 3);
  assert.equal(s.leaderEpoch, 1);
  assert.equal(s.highWatermark, 642);
  assert.equal(s.maxFollowerLag, 0);
  assert.equal(s.maxFollowerLagTimeMs, 398);
  assert.deepEqual(s.voters.map((v) => v.id), [1, 2, 3]);
  assert.deepEqual(s.voters[1].endpoints, ["CONTROLLER://127.0.0.1:19094"]);
  assert.deepEqual(s.observers, []);
  const observers = parseQuorumSummary(
    STATUS.replace("CurrentObservers:       []", 'CurrentObservers:       [{"id": 4}, {"id": 5}]'),
  ).observers;
  assert.deepEqual(observers.map((o) => o.id), [4, 5]);
  // Older tools print plain id lists.
  assert.deepEqual(
    parseQuorumSummary(STATUS.replace(/CurrentVoters:.*$/m, "CurrentVoters: [1, 2, 3]")).voters
      .map((v) => v.id),
    [1, 2, 3],
  );
  assert.equal(
    parseQuorumSummary(STATUS.replace("LeaderId:               3", "LeaderId: -1")).leaderId,
    -1,
  );
  assert.throws(() => parseQuorumSummary("Exception in thread main: timeout"), JavaToolError);
});

Deno.test("quorum: parses describe --replication", () => {
  const rows = parseQuorumReplication(REPLICATION);
  assert.deepEqual(rows.map((r) => [r.nodeId, r.status, r.logEndOffset, r.lag]), [
    [3, "Leader", 646, 0],
    [1, "Follower", 646, 0],
    [2, "Follower", 610, 36],
    [4, "Observer", 646, 0],
  ]);
  assert.equal(rows[2].lastFetchTimestamp, 1796478590000);
  assert.equal(rows[2].lastCaughtUpTimestamp, 1796478580000);
  assert.equal(rows[0].directoryId, "AAAAAAAAAAAAAAAAAAAAAA");
  assert.throws(() => parseQuorumReplication("no table here"), JavaToolError);
});

Deno.test("quorum: the health row", () => {
  const q: QuorumStatus = {
    ...parseQuorumSummary(STATUS),
    replicas: parseQuorumReplication(REPLICATION),
  };
  const now = 1796478597100;
  const ok = quorumHealth(q, now);
  assert.equal(ok.ok, true);
  assert.equal(ok.check, "quorum");
  assert.match(ok.detail, /^leader 3 \(epoch 1, high watermark 642\)/);
  assert.match(ok.detail, /1: lag 0, 2: lag 36, no fetch for 7 s, 3: leader/);
  const leaderless = quorumHealth({ ...q, leaderId: -1, leaderEpoch: 2 }, now);
  assert.equal(leaderless.ok, false);
  assert.match(leaderless.detail, /^no leader \(epoch 2\)/);
  const missing = quorumHealth({ ...q, replicas: q.replicas.filter((r) => r.nodeId !== 1) }, now);
  assert.match(missing.detail, /1: not reporting/);
});

Deno.test("quorum: live, the leader is a voter and the reported controller is not it", async () => {
  await requireKafka();
  const q = await describeQuorum(config);
  assert.deepEqual(q.voters.map((v) => v.id).sort(), [1, 2, 3]);
  assert.ok(q.voters.some((v) => v.id === q.leaderId), `leader ${q.leaderId} is a voter`);
  assert.equal(q.replicas.filter((r) => r.status === "Leader").length, 1);
  assert.equal(q.replicas.find((r) => r.status === "Leader")?.nodeId, q.leaderId);
  const row = await checkQuorum(config);
  assert.equal(row.ok, true, row.detail);
  // DescribeCluster's controller id: a random live broker per answer (KIP-590).
  const admin = createKafka(config, { clientId: "test-quorum" }).admin();
  await admin.connect();
  const reported = new Set<number | null>();
  try {
    for (let i = 0; i < 30 && reported.size < 2; i++) {
      reported.add((await admin.describeCluster()).controller);
    }
  } finally {
    await admin.disconnect();
  }
  assert.ok(reported.size >= 2, `30 answers all named controller ${[...reported]}`);
});

Deno.test({
  name: "quorum: one controller stopped, the quorum keeps a leader (fault: SIGSTOP)",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await requireKafka();
    const stack = await openStack(config);
    if (stack.mode !== "native") {
      console.log("quorum fault test: native mode only (it signals a broker process)");
      return;
    }
    const before = await describeQuorum(config);
    const victim = before.leaderId;
    assert.ok(victim > 0, `a leader before the fault (${victim})`);
    const pid = Number(
      (await Deno.readTextFile(`${stackPaths().pids}/kafka-${victim}.pid`)).trim(),
    );
    assert.ok(pid > 0, "the leader's pid");
    // Ask the live brokers only: Kafka's tool may send its request to the stopped one and wait
    // out its request timeout there.
    const live = {
      ...config,
      kafka: { ...config.kafka, brokers: config.kafka.brokers.filter((_, i) => i + 1 !== victim) },
    };
    Deno.kill(pid, "SIGSTOP");
    try {
      // The election takes seconds; each look starts two JVMs, and a live broker may still forward
      // the request to the stopped node until its own request times out: on a busy machine the
      // first answers naming the new leader can take over a minute.
      let seen = "no answer yet";
      const after = await waitFor(
        "a new quorum leader",
        async () => {
          const q = await describeQuorum(live, { timeoutMs: 15_000 }).catch((e) => {
            seen = (e as Error).message.slice(0, 200);
            return undefined;
          });
          if (q) seen = `leader ${q.leaderId}, epoch ${q.leaderEpoch}`;
          return q && q.leaderId > 0 && q.leaderId !== victim ? q : undefined;
        },
        120_000,
        500,
      ).catch((e) => assert.fail(`${(e as Error).message} (last look: ${seen})`));
      assert.ok(after.leaderEpoch > before.leaderEpoch, "a new election raises the epoch");
      assert.ok(after.voters.some((v) => v.id === victim), "the stopped node is still a voter");
      // Each live broker forwards the request to the quorum's leader; one may still be sending
      // to the stopped node for a while after the election, so health may say so at first.
      let last = "";
      const row = await waitFor(
        "health's quorum row with a leader",
        async () => {
          const r = await checkQuorum(live, 15_000);
          last = r.detail;
          return r.ok ? r : undefined;
        },
        60_000,
        500,
      ).catch((e) => assert.fail(`health has no leader: ${last} (${(e as Error).message})`));
      assert.match(row.detail, new RegExp(`^leader ${after.leaderId} `));
    } finally {
      Deno.kill(pid, "SIGCONT");
    }
    // Back to normal: the node follows again and has caught up, and the cluster is healthy.
    await waitFor(
      "the stopped node caught up as a follower",
      async () => {
        const q = await describeQuorum(config).catch(() => undefined);
        const r = q?.replicas.find((x) => x.nodeId === victim);
        return q && q.leaderId > 0 && r && r.lag <= 5 ? q : undefined;
      },
      60_000,
      1000,
    );
    await waitFor(
      "a healthy cluster (every broker, no under-replicated partition)",
      async () => {
        const rows = await checkKafka(config);
        return rows.every((r) => r.ok);
      },
      120_000,
      2000,
    );
  },
});
