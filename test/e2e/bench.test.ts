import "../support/preflight.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { deleteQueue, uniqueQueue } from "../support/broker.ts";
import { runFibrpc, ServeProcess } from "../support/fibrpc.ts";

describe("fibrpc bench against fibrpc serve", () => {
  const queue = uniqueQueue("bench");
  let serve: ServeProcess;

  beforeAll(async () => {
    serve = await ServeProcess.start(["--queue", queue, "--max-n", "1000"]);
  });
  afterAll(async () => {
    await serve.stop();
    await deleteQueue(queue);
  });

  test("--json: every request answered and verified, exit 0, no progress line when not a TTY", async () => {
    const result = await runFibrpc(["bench", "--queue", queue, "--requests", "300", "--concurrency", "8", "--connections", "2", "--n", "0..500", "--json"]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
    const summary = JSON.parse(result.stdout);
    expect(summary).toMatchObject({ queue, n: "0..500", concurrency: 8, connections: 2, calls: 300, ok: 300, failed: 0, errors: {} });
    expect(summary.callsPerSecond).toBeGreaterThan(0);
    expect(summary.latencyMs.p50).toBeLessThanOrEqual(summary.latencyMs.p99);
  });

  test("error replies are counted by code and the run exits 1", async () => {
    const result = await runFibrpc(["bench", "--queue", queue, "--requests", "50", "--concurrency", "4", "--n", "2000"]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("errors   OUT_OF_RANGE 50");
    expect(result.stderr).toBe("fibrpc: 50 of 50 calls failed: OUT_OF_RANGE 50\n");
  });

  test("a queue nobody consumes from is exit 3 before anything is sent", async () => {
    const result = await runFibrpc(["bench", "--queue", uniqueQueue("bench-missing"), "--requests", "5"]);
    expect(result.code).toBe(3);
    expect(result.stdout).toBe("");
  });

  test("bad flags are usage errors", async () => {
    expect((await runFibrpc(["bench", "--requests", "5", "--duration", "1s"])).code).toBe(2);
    expect((await runFibrpc(["bench", "--n", "40..20"])).code).toBe(2);
  });
});
