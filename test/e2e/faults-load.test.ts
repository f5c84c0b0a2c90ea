import "../support/preflight.ts";
import { afterEach, describe, expect, test } from "bun:test";
import { fibonacci } from "../../src/fib.ts";
import { BROKER_URL, deleteQueue, eventually, queueState, uniqueQueue } from "../support/broker.ts";
import { runFibrpc, ServeProcess } from "../support/fibrpc.ts";
import { LoadDriver } from "../support/load.ts";

const CLIENTS = 4;
const PER_CLIENT = 1000;

describe("under load, a worker leaving loses nothing", () => {
  let queue = "";
  let workers: ServeProcess[] = [];

  afterEach(async () => {
    await Promise.all(workers.map((worker) => worker.stop("SIGKILL")));
    workers = [];
    await deleteQueue(queue);
  });

  async function startWorkers(): Promise<[ServeProcess, ServeProcess]> {
    queue = uniqueQueue("load");
    const args = ["--queue", queue, "--prefetch", "32"];
    const first = await ServeProcess.start(args);
    const second = await ServeProcess.start(args);
    workers = [first, second];
    return [first, second];
  }

  test("SIGTERM midway: every request answered once and correctly, queue empty, exit 0", async () => {
    const [leaving] = await startWorkers();
    const load = await LoadDriver.start({ url: BROKER_URL, queue, clients: CLIENTS, requestsPerClient: PER_CLIENT, perTick: 20 });
    await eventually(() => load.answered >= (CLIENTS * PER_CLIENT) / 4, 20_000, 10);
    const answeredAtSignal = load.answered;
    const code = await leaving.stop("SIGTERM");
    const report = await load.finish(20_000);
    const drained = /stopped: .*/.exec(leaving.log)?.[0];
    console.log(`FIGURES sigterm ${JSON.stringify({ ...report, answeredAtSignal, drained })}`);

    expect(code).toBe(0);
    expect(leaving.log).toMatch(/stopped: \d+ in flight answered, \d+ prefetched handed back/);
    expect(report.sent).toBe(CLIENTS * PER_CLIENT);
    expect(report.lost).toBe(0);
    expect(report.wrong).toBe(0);
    expect(report.wireDuplicates).toBe(0);
    expect(await eventually(async () => (await queueState(queue))?.messageCount === 0, 5000)).toBe(true);
  }, 60_000);

  test("kill -9 midway: its requests are redelivered, callers get each answer once", async () => {
    const [killed] = await startWorkers();
    const load = await LoadDriver.start({ url: BROKER_URL, queue, clients: CLIENTS, requestsPerClient: PER_CLIENT, perTick: 20 });
    const ns = Array.from({ length: 300 }, (_unused, index) => 2000 + index);
    const caller = runFibrpc(["call", "--queue", queue, "--timeout", "30", ...ns.map(String)], { timeoutMs: 40_000 });
    await eventually(() => load.answered >= (CLIENTS * PER_CLIENT) / 4, 20_000, 10);
    const answeredAtSignal = load.answered;
    killed.proc.kill("SIGKILL");
    await killed.exited;
    const report = await load.finish(20_000);
    const call = await caller;
    console.log(`FIGURES kill-9 ${JSON.stringify({ ...report, answeredAtSignal, callLines: call.stdout.split("\n").filter(Boolean).length })}`);

    expect(report.lost).toBe(0);
    expect(report.wrong).toBe(0);
    expect(call.code).toBe(0);
    expect(call.stdout).toBe(ns.map((n) => `${fibonacci(n)}\n`).join(""));
    expect(await eventually(async () => (await queueState(queue))?.messageCount === 0, 5000)).toBe(true);
  }, 60_000);
});
