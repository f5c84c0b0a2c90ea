import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import amqp from "amqplib";
import { eventually, uniqueQueue } from "../support/broker.ts";
import { runFibrpc, ServeProcess } from "../support/fibrpc.ts";
import { startWorker } from "../support/in-process-worker.ts";
import { RabbitCluster } from "../support/rabbit-cluster.ts";
import { SteadyCaller } from "../support/steady-caller.ts";

/** Ready messages in `queue`, as a passive declare through `url` sees them. */
async function queueDepth(url: string, queue: string): Promise<number> {
  const connection = await amqp.connect(url);
  try {
    return (await (await connection.createChannel()).checkQueue(queue)).messageCount;
  } finally {
    await connection.close().catch(() => {});
  }
}

/** How many times a worker's log says it lost its connection. */
const connectionLosses = (worker: ServeProcess): number => worker.log.match(/connection lost/g)?.length ?? 0;

const WINDOW_MS = 3000;

describe("serve on a 3-node cluster", () => {
  let cluster: RabbitCluster;

  beforeAll(async () => {
    cluster = await RabbitCluster.start({ label: "serve" });
  }, 120_000);
  afterAll(async () => {
    await cluster?.destroy();
  }, 30_000);

  test("a caller's node dies with its requests queued: workers reconnect at most once, a healthy caller keeps its pace", async () => {
    const [url1, url2, url3] = cluster.urls as [string, string, string];
    const queue = uniqueQueue("storm");
    const started: { stop(): Promise<unknown> }[] = [];
    let killed = false;
    try {
      // Workers on nodes 1 and 2; the queue is declared through node 1, so it is led there and
      // node 3's death costs no election: what is measured is the replies to the dead caller.
      const first = await ServeProcess.start(["--url", url1, "--queue", queue], {}, { startTimeoutMs: 20_000 });
      started.push({ stop: () => first.stop("SIGKILL") });
      const second = await ServeProcess.start(["--url", url2, "--queue", queue], {}, { startTimeoutMs: 20_000 });
      started.push({ stop: () => second.stop("SIGKILL") });
      expect(await cluster.waitForLeader(queue)).toBe(cluster.names[0] ?? "node 1");

      // A healthy caller on node 1, alone (16 in flight, with an expiration, as fibrpc call sends).
      const healthy = await SteadyCaller.start(url1, queue, { window: 16, expirationMs: 10_000 });
      started.push(healthy);
      expect(await eventually(() => healthy.replies > 200, 10_000)).toBe(true);
      const measuredFrom = performance.now();
      await Bun.sleep(WINDOW_MS); // a measuring window, not a wait for an event

      // A doomed caller on node 3, as a bench or a tutorial client sends (no expiration): a burst
      // published and confirmed, then its node is killed with most of it still queued. (A small
      // backlog is gone before the other nodes count node 3 as down, and crashes nothing.)
      const doomed = await amqp.connect(url3);
      started.push({ stop: () => doomed.close().catch(() => {}) });
      doomed.on("error", () => {});
      const channel = await doomed.createConfirmChannel();
      channel.on("error", () => {});
      await channel.consume("amq.rabbitmq.reply-to", () => {}, { noAck: true });
      for (let index = 0; index < 3000; index++) {
        channel.sendToQueue(queue, Buffer.from("25"), { replyTo: "amq.rabbitmq.reply-to", correlationId: `doomed-${index}` });
      }
      await channel.waitForConfirms();
      const lossesBefore = [connectionLosses(first), connectionLosses(second)];
      const killedAt = performance.now();
      await cluster.kill(2);
      killed = true;
      // The backlog ahead of the healthy caller's requests drains first (dropped, with the fix;
      // a storm would keep it there while node 3 is down), then the pace is measured.
      const drained = await eventually(async () => (await queueDepth(url1, queue)) <= 16, 30_000, 200);
      const drainedAt = performance.now();
      await Bun.sleep(WINDOW_MS); // a measuring window, not a wait for an event
      const queued = await queueDepth(url1, queue);

      const figures = {
        callsPerSecondBefore: Math.round(healthy.callsPerSecond(measuredFrom, measuredFrom + WINDOW_MS)),
        backlogDrainedAfterMs: Math.round(drainedAt - killedAt),
        callsPerSecondWhileDraining: Math.round(healthy.callsPerSecond(killedAt, drainedAt)),
        callsPerSecondDuring: Math.round(healthy.callsPerSecond(drainedAt, drainedAt + WINDOW_MS)),
        reconnects: [connectionLosses(first) - (lossesBefore[0] ?? 0), connectionLosses(second) - (lossesBefore[1] ?? 0)],
        dropLines: [first, second].map((worker) => worker.log.match(/cannot be reached/g)?.length ?? 0),
        queuedAfter: queued,
      };
      console.log(`FIGURES storm ${JSON.stringify(figures)}`);

      expect(drained).toBe(true);
      expect(figures.reconnects.every((count) => count <= 1)).toBe(true);
      expect(figures.callsPerSecondDuring).toBeGreaterThanOrEqual(0.8 * figures.callsPerSecondBefore);
      expect(queued).toBeLessThanOrEqual(16); // the doomed requests are gone; at most the healthy window is queued
      expect(first.proc.exitCode).toBeNull();
      expect(second.proc.exitCode).toBeNull();
    } finally {
      for (const process of started.reverse()) await process.stop();
      if (killed) await cluster.restart(2);
    }
  }, 120_000);

  test("the node leading the queue dies: its worker consumes again through a surviving node within 5 s", async () => {
    const queue = uniqueQueue("leader");
    const urls = cluster.urls as [string, ...string[]];
    // The worker declares the queue, so it is led by the node the worker connected to (client-local).
    const worker = await startWorker(queue, { broker: { urls } });
    let killedIndex: number | undefined;
    try {
      const leader = await cluster.waitForLeader(queue);
      const leaderIndex = cluster.indexOf(leader);
      expect(worker.log.matching(/^connected to /)[0]?.message).toBe(`connected to ${urls[leaderIndex]?.replace(/:guest@/, ":***@")}`);

      const killedAt = performance.now();
      await cluster.kill(leaderIndex);
      killedIndex = leaderIndex;
      const back = await eventually(() => worker.observer.reconnects === 1 && worker.server.status().state === "consuming", 15_000, 10);
      const consumingAfterMs = performance.now() - killedAt;
      const consumers = await cluster.consumers(queue);
      const survivor = urls[(leaderIndex + 1) % urls.length] ?? urls[0];
      const call = await runFibrpc(["call", "30", "--url", survivor, "--queue", queue, "--timeout", "10"]);
      console.log(`FIGURES leader-kill ${JSON.stringify({ consumingAgainAfterMs: Math.round(consumingAfterMs), consumers, killed: leader })}`);
      if (!back) console.log(worker.log.entries.map((entry) => `${entry.level} ${entry.message}`).join("\n"));

      expect(back).toBe(true);
      expect(consumingAfterMs).toBeLessThan(5000);
      // A quorum queue keeps the consumer of a node it suspects down (it may come back): the one
      // that counts is on a surviving node.
      expect(consumers.filter((consumer) => consumer.node !== leader)).toHaveLength(1);
      expect(worker.log.matching(/^reconnected to /)[0]?.message).not.toContain(urls[leaderIndex] ?? "?");
      expect(call.stdout).toBe("832040\n");
    } finally {
      await worker.stop();
      if (killedIndex !== undefined) await cluster.restart(killedIndex);
    }
  }, 120_000);
});
