/**
 * Callers (call, health) on a real 3-node cluster while nodes die: every call answered right,
 * no false "no server", a caller whose node dies finishes through another, health warns.
 * The figures printed as FIGURES lines go to the closing note and docs/cluster.md.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { fibonacci } from "../../src/fib.ts";
import { uniqueQueue } from "../support/broker.ts";
import { runFibrpc, ServeProcess, type RunResult } from "../support/fibrpc.ts";
import { RabbitCluster } from "../support/rabbit-cluster.ts";

const expected = (ns: number[]) => ns.map((n) => `${fibonacci(n)}\n`).join("");

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 20_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await Bun.sleep(25);
  }
}

/** Runs `fibrpc call` in `lanes` loops until stopped; every result kept with when it ended. */
function callLoop(lanes: number, args: () => string[], env: Record<string, string>) {
  const results: (RunResult & { endedAt: number })[] = [];
  let running = true;
  const lane = async (): Promise<void> => {
    while (running) {
      const result = await runFibrpc(["call", ...args()], { env, timeoutMs: 60_000 });
      results.push({ ...result, endedAt: Date.now() });
    }
  };
  const all = Array.from({ length: lanes }, () => lane());
  return {
    results,
    async stop(): Promise<void> {
      running = false;
      await Promise.all(all);
    },
  };
}

describe("callers on a 3-node cluster", () => {
  let cluster: RabbitCluster;
  const workers: ServeProcess[] = [];

  beforeAll(async () => {
    cluster = await RabbitCluster.start({ label: "callers" });
  }, 120_000);
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((worker) => worker.stop("SIGKILL")));
  });
  afterAll(async () => {
    await cluster?.destroy();
  }, 30_000);

  const allNodes = () => ({ AMQP_URL: cluster.urls.join(",") });

  test("health with every node up: OK, nodes_up=3", async () => {
    const queue = uniqueQueue("cluster-health");
    workers.push(await ServeProcess.start(["--queue", queue], allNodes()));
    const result = await runFibrpc(["health", "--queue", queue], { env: allNodes() });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^FIBRPC OK - .*3 of 3 nodes up, checked via amqp:\/\/[^@ ]*:\*\*\*@127\.0\.0\.1:\d+ \|.* nodes_up=3;;;0;3\n$/);
  }, 60_000);

  test("kill -9 of the node leading the queue under load: every call answered right, no exit 3; the workers consume again within 5 s", async () => {
    const queue = uniqueQueue("cluster-leader");
    const pair = [await ServeProcess.start(["--queue", queue], allNodes()), await ServeProcess.start(["--queue", queue], allNodes())];
    workers.push(...pair);
    const leader = cluster.indexOf(await cluster.waitForLeader(queue));
    const ns = [25, 90, 1000, 3, 0];
    const loop = callLoop(6, () => ["--queue", queue, "--timeout", "15s", ...ns.map(String)], allNodes());
    try {
      await until(() => loop.results.length >= 12, 30_000, "12 calls before the kill");
      // 3.10 lists a dead node's consumers for a while: count those on the nodes still running.
      const killedName = cluster.names[leader];
      const onSurvivors = async (): Promise<number> => (await cluster.consumers(queue)).filter((consumer) => consumer.node !== killedName).length;
      // A worker on the leader's node (its log names the node it connected to) is back when it has
      // logged "consuming" once more: an event in its own log, timed from the kill, beside the calls
      // (rabbitmqctl takes ~0.5-1 s a look).
      const leaderPort = new URL(cluster.node(leader).url).port;
      const firstNode = (worker: ServeProcess) => /\bINFO\s+connected to (\S+)/.exec(worker.log)?.[1] ?? "";
      const onLeader = pair.filter((worker) => firstNode(worker).endsWith(`:${leaderPort}`));
      const consumingAgain = () => onLeader.every((worker) => (worker.log.match(/consuming on queue/g)?.length ?? 0) >= 2);
      const killedAt = Date.now();
      await cluster.kill(leader);
      const [back] = await Promise.all([
        until(consumingAgain, 10_000, "the dead node's workers consuming again").then(() => Date.now() - killedAt),
        until(() => loop.results.filter((result) => result.endedAt > killedAt + 1000).length >= 12, 45_000, "12 calls ending after the kill"),
      ]);
      // And the broker agrees: both consumers on surviving nodes.
      await until(async () => (await onSurvivors()) === 2, 10_000, "2 consumers on surviving nodes");
      await loop.stop();
      const failed = loop.results.filter((result) => result.code !== 0 || result.stdout !== expected(ns));
      const slowest = Math.max(...loop.results.filter((result) => result.endedAt > killedAt).map((result) => result.ms));
      console.log(
        `FIGURES leader-kill ${JSON.stringify({ calls: loop.results.length, requests: loop.results.length * ns.length, failed: failed.length, codes: failed.map((result) => result.code), workersOnLeader: onLeader.length, consumingAgainMs: back, slowestCallAfterKillMs: Math.round(slowest) })}`,
      );
      expect(failed.map((result) => `${result.code} ${result.stderr}`)).toEqual([]);
      expect(back).toBeLessThan(5000);
    } finally {
      await loop.stop();
      await cluster.restart(leader);
    }
  }, 180_000);

  test("kill -9 of a caller's node with its requests in flight: each call finishes through another node, exit 0", async () => {
    const queue = uniqueQueue("cluster-caller");
    const [doomed, ...others] = [0, 1, 2];
    const survivors = { AMQP_URL: others.map((index) => cluster.node(index).url).join(",") };
    // One slow worker, on the surviving nodes only: requests wait their turn, in flight, while the caller's node dies.
    workers.push(await ServeProcess.start(["--queue", queue, "--prefetch", "1", "--max-n", "3000000"], survivors));
    const callerUrls = { AMQP_URL: [cluster.node(doomed).url, cluster.node(others[0] ?? 1).url].join(",") };
    const ns = [1_500_000, 1_500_001];
    const calls = Array.from({ length: 12 }, () =>
      runFibrpc(["call", "--queue", queue, "--timeout", "50s", ...ns.map(String)], { env: callerUrls, timeoutMs: 90_000 }),
    );
    // Callers connect to either listed node at random: wait until some are on the doomed one and requests queue up.
    await until(
      async () => (await cluster.node(doomed).rabbitmqctl("list_connections", "--silent", "name")).trim() !== "",
      20_000,
      "a caller on the doomed node",
    );
    await until(async () => (await cluster.ctl(["list_queues", "--silent", "name", "messages"])).includes(queue), 20_000, "requests queued");
    const killedAt = Date.now();
    await cluster.kill(doomed);
    const results = await Promise.all(calls);
    const failed = results.filter((result) => result.code !== 0 || result.stdout !== expected(ns));
    console.log(
      `FIGURES caller-node-kill ${JSON.stringify({ calls: results.length, requests: results.length * ns.length, failed: failed.length, lastDoneAfterKillMs: Date.now() - killedAt, workerLog: workers[0]?.log.split("\n").filter((line) => /WARN/.test(line)).length })}`,
    );
    expect(failed.map((result) => `${result.code} ${result.stderr}`)).toEqual([]);
    await cluster.restart(doomed);
  }, 180_000);

  test("health with a node down: WARNING naming it, nodes_up=2; CRITICAL only when none answers", async () => {
    const queue = uniqueQueue("cluster-health-down");
    workers.push(await ServeProcess.start(["--queue", queue], allNodes()));
    await cluster.kill(2);
    try {
      const result = await runFibrpc(["health", "--queue", queue], { env: allNodes() });
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(/^FIBRPC WARNING - .*1 of 3 broker nodes not answering: amqp:\/\/[^@ ]*:\*\*\*@127\.0\.0\.1:\d+ /);
      expect(result.stdout).toContain("nodes_up=2;;;0;3");
    } finally {
      await cluster.restart(2);
    }
  }, 120_000);
});
