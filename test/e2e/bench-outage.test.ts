import "../support/preflight.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startFibrpc } from "../support/fibrpc.ts";
import { RabbitNode } from "../support/rabbit-node.ts";
import { referenceFibonacci, startTestWorker, type TestWorker } from "../support/test-worker.ts";

const CONCURRENCY = 8;

/** A broker of its own, stopped mid-run: the shared one on 5672 is never touched. */
describe("fibrpc bench when the broker goes away", () => {
  let node: RabbitNode;
  let worker: TestWorker;

  beforeAll(async () => {
    node = await RabbitNode.start({ label: "bench" });
    worker = await startTestWorker({ queue: "bench-outage", url: node.url, answer: (n) => referenceFibonacci(Number(n)).toString() });
  }, 60_000);
  afterAll(async () => {
    await worker?.close();
    await node?.destroy();
  });

  test("requests in flight count as UNREACHABLE, the summary is printed, exit 5", async () => {
    const run = startFibrpc(["bench", "--queue", "bench-outage", "--duration", "60s", "--concurrency", String(CONCURRENCY), "--json"], {
      env: { AMQP_URL: node.url },
    });
    try {
      // Request CONCURRENCY + k goes out only once k answers are back: some calls have succeeded.
      expect(await worker.waitForRequests(CONCURRENCY + 4, 20_000)).toBe(true);
      await node.stopApp();
      const { code, stdout, stderr } = await run.result;
      expect(code).toBe(5);
      expect(stderr).toContain("connection to broker lost");
      expect(stderr).not.toContain("guest:guest");
      const summary = JSON.parse(stdout);
      expect(summary.ok).toBeGreaterThan(0);
      expect(summary.errors.UNREACHABLE).toBeGreaterThan(0);
      expect(Object.keys(summary.errors)).toEqual(["UNREACHABLE"]);
    } finally {
      run.kill("SIGKILL");
    }
  }, 40_000);
});
