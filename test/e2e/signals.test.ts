/** SIGHUP is a stop signal like SIGTERM for every command; and small things of issue 13 §G. */
import "../support/preflight.ts";
import { describe, expect, test } from "bun:test";
import amqp from "amqplib";
import { BROKER_URL, deleteQueue, eventually, queueState, uniqueQueue } from "../support/broker.ts";
import { FIBRPC, runFibrpc, ServeProcess } from "../support/fibrpc.ts";

/** A consumer that takes requests and never answers; `delivered` resolves at the first one. */
async function silentConsumer(queue: string): Promise<{ delivered: Promise<void>; close(): Promise<void> }> {
  const connection = await amqp.connect(BROKER_URL);
  connection.on("error", () => {});
  const channel = await connection.createChannel();
  await channel.assertQueue(queue, { durable: false });
  const delivered = Promise.withResolvers<void>();
  await channel.consume(queue, () => delivered.resolve());
  return { delivered: delivered.promise, close: () => connection.close().catch(() => {}) };
}

describe("SIGHUP (a closed terminal, a supervisor's reload)", () => {
  test("serve drains and exits 0, logging which signal started it", async () => {
    const queue = uniqueQueue("sighup");
    const serve = await ServeProcess.start(["--queue", queue]);
    try {
      expect(await serve.stop("SIGHUP")).toBe(0);
      expect(serve.log).toContain("shutting down on SIGHUP: consumer cancelled");
      expect(serve.log).toMatch(/stopped: \d+ in flight answered/);
      expect(await eventually(async () => (await queueState(queue))?.consumerCount === 0)).toBe(true);
    } finally {
      await deleteQueue(queue);
    }
  });

  test("call, waiting for its answer, gives up with 129", async () => {
    const queue = uniqueQueue("sighup-call");
    const consumer = await silentConsumer(queue);
    try {
      const proc = Bun.spawn([FIBRPC, "call", "30", "--queue", queue, "--timeout", "20s"], {
        env: { ...process.env, AMQP_URL: BROKER_URL, NO_COLOR: "1" },
        stdout: "pipe",
        stderr: "pipe",
      });
      await consumer.delivered;
      proc.kill("SIGHUP");
      expect(await proc.exited).toBe(129);
      expect(await new Response(proc.stderr).text()).toBe("fibrpc: interrupted by SIGHUP\n");
    } finally {
      await consumer.close();
      await deleteQueue(queue);
    }
  });
});

describe("bench where nothing was answered", () => {
  test("prints no percentile; its JSON has no latency", async () => {
    const queue = uniqueQueue("bench-none");
    const consumer = await silentConsumer(queue);
    try {
      const text = await runFibrpc(["bench", "--queue", queue, "--requests", "2", "--concurrency", "2", "--timeout", "300ms"]);
      expect(text.code).toBe(1);
      expect(text.stdout).toContain("latency  none measured: no call was answered");
      expect(text.stdout).not.toMatch(/p50|p99/);
      expect(text.stdout).toContain("errors   TIMEOUT 2");
      const json = await runFibrpc(["bench", "--queue", queue, "--requests", "1", "--timeout", "300ms", "--json"]);
      expect(JSON.parse(json.stdout)).toMatchObject({ ok: 0, failed: 1, latencyMs: null });
    } finally {
      await consumer.close();
      await deleteQueue(queue);
    }
  });
});

test("call --help spells the n argument one way", async () => {
  const help = await runFibrpc(["call", "--help"]);
  expect(help.stdout).toContain("USAGE fibrpc call [OPTIONS] <N...|->");
  expect(help.stdout).toMatch(/^ {2}N\.\.\.\|- {4}One or more non-negative integers/m);
  expect(help.stdout).not.toMatch(/N=<|<n\.\.\./);
});
