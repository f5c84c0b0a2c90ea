import "../support/preflight.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import amqp from "amqplib";
import { fibonacci } from "../../src/fib.ts";
import { eventually, uniqueQueue } from "../support/broker.ts";
import { cleanupAfterEach } from "../support/cleanup.ts";
import { runFibrpc, ServeProcess, type RunResult } from "../support/fibrpc.ts";
import { RabbitNode } from "../support/rabbit-node.ts";
import { startTestWorker } from "../support/test-worker.ts";

/** Reliability tests own ports 41000-41999 for throwaway nodes. */
const PORTS: [number, number] = [41_000, 41_999];

describe("broker outages, on a throwaway RabbitMQ node", () => {
  let node: RabbitNode;

  beforeAll(async () => {
    node = await RabbitNode.start({ label: "faults", portRange: PORTS });
  }, 60_000);
  afterAll(async () => {
    await node.destroy();
  }, 30_000);

  const call = (args: string[], timeoutMs = 20_000): Promise<RunResult> => runFibrpc(["call", ...args], { env: { AMQP_URL: node.url }, timeoutMs });
  const cleanup = cleanupAfterEach();

  /** A `fibrpc serve` on the throwaway node, killed after the test whatever happens. */
  async function worker(args: string[], url = node.url): Promise<ServeProcess> {
    const started = await ServeProcess.start(args, { AMQP_URL: url });
    cleanup(() => started.stop("SIGKILL"));
    return started;
  }

  /** A consumer that takes requests and never answers (the caller has to wait), closed after the test. */
  async function stalledConsumer(queue: string): Promise<Awaited<ReturnType<typeof startTestWorker>>> {
    const stalled = await startTestWorker({ queue, url: node.url, stall: true });
    cleanup(() => stalled.close());
    return stalled;
  }

  test("serve rides out a broker restart under load; calls fail clearly meanwhile and succeed again soon after", async () => {
    const queue = uniqueQueue("restart");
    const serve = await worker(["--queue", queue]);
    const outcomes: RunResult[] = [];
    let running = true;
    const ns = Array.from({ length: 50 }, (_unused, index) => 1000 + index);
    const expected = ns.map((n) => `${fibonacci(n)}\n`).join("");
    const lane = async (): Promise<void> => {
      while (running) outcomes.push(await call(["--queue", queue, "--timeout", "5", ...ns.map(String)]));
    };
    const lanes = [lane(), lane()];
    cleanup(async () => {
      running = false;
      await Promise.all(lanes);
    });
    expect(await eventually(() => outcomes.filter((outcome) => outcome.code === 0).length >= 4, 15_000)).toBe(true);
    const logBefore = serve.log.split("\n").length;

    await node.stopApp();
    cleanup(() => node.startApp()); // a no-op once it is back; the node is shared by the file's tests
    const downStarted = performance.now();
    const whileDown = await call(["--queue", queue, "30"]);
    const reportDownMs = performance.now() - downStarted;
    // The outage lasts until the worker has noticed it and both lanes have been refused since it began:
    // long enough for the worker to retry, and to show whether it spins or floods its log.
    const failuresBefore = outcomes.filter((outcome) => outcome.code === 5).length;
    expect(await serve.waitForLog(/connection lost/)).toBe(true);
    expect(await eventually(() => outcomes.filter((outcome) => outcome.code === 5).length >= failuresBefore + 2, 15_000)).toBe(true);
    await node.startApp();
    const back = performance.now();
    let firstSuccessMs = Number.NaN;
    expect(
      await eventually(
        async () => {
          const result = await call(["--queue", queue, "--timeout", "2", "30"]);
          if (result.code === 0) firstSuccessMs = performance.now() - back;
          return result.code === 0;
        },
        20_000,
        100,
      ),
    ).toBe(true);
    running = false;
    await Promise.all(lanes);

    const outageLog = serve.log
      .split("\n")
      .slice(logBefore - 1)
      .filter(Boolean);
    console.log(
      `FIGURES restart ${JSON.stringify({
        calls: outcomes.length,
        codes: Object.fromEntries([0, 3, 4, 5].map((code) => [code, outcomes.filter((outcome) => outcome.code === code).length])),
        requestsAnswered: outcomes.filter((outcome) => outcome.code === 0).length * ns.length,
        reportDownMs: Math.round(reportDownMs),
        firstSuccessAfterBackMs: Math.round(firstSuccessMs),
        workerLogLinesDuringOutage: outageLog.length,
      })}`,
    );
    expect(whileDown.code).toBe(5);
    expect(Number.isFinite(firstSuccessMs)).toBe(true);
    // Every call either answered everything correctly or said why with its code: none hung, none lied.
    for (const outcome of outcomes) {
      expect([0, 3, 5]).toContain(outcome.code);
      if (outcome.code === 0) expect(outcome.stdout).toBe(expected);
    }
    expect(serve.proc.exitCode).toBeNull();
    expect(outageLog.length).toBeLessThanOrEqual(5);
    expect(outageLog.join("\n")).toMatch(/connection lost/);
    expect(outageLog.join("\n")).toMatch(/reconnected to/);
    expect(await serve.stop()).toBe(0);
  }, 60_000);

  test("call exits with the unreachable code at once when the connection drops while it waits", async () => {
    const queue = uniqueQueue("drop");
    const silent = await stalledConsumer(queue);
    const pending = call(["--queue", queue, "--timeout", "30", "30"], 40_000);
    expect(await silent.waitForRequests(1)).toBe(true); // the request is out: the caller waits for its answer
    const dropped = performance.now();
    await node.stopApp();
    let result: RunResult;
    try {
      result = await pending;
    } finally {
      await node.startApp();
    }
    const reportMs = performance.now() - dropped;
    console.log(`FIGURES drop ${JSON.stringify({ code: result.code, reportAfterDropMs: Math.round(reportMs) })}`);
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/connection to broker lost/);
  }, 60_000);

  test("call says there is no server when every worker leaves while it waits", async () => {
    const queue = uniqueQueue("gone");
    const silent = await stalledConsumer(queue);
    const pending = call(["--queue", queue, "--timeout", "30", "30"], 40_000);
    expect(await silent.waitForRequests(1)).toBe(true);
    await silent.close();
    const result = await pending;
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/every worker left/);
    expect(result.ms).toBeLessThan(30_000); // it did not wait out --timeout
  }, 60_000);

  test("a broker under a resource alarm is reported, not silently waited on", async () => {
    const queue = uniqueQueue("alarm");
    const serve = await worker(["--queue", queue]);
    await node.rabbitmqctl("set_vm_memory_high_watermark", "absolute", "1");
    try {
      const result = await call(["--queue", queue, "--timeout", "20", "30"], 30_000);
      console.log(`FIGURES alarm ${JSON.stringify({ code: result.code, ms: Math.round(result.ms) })}`);
      expect(result.code).toBe(5);
      expect(result.stderr).toMatch(/resource alarm/);
    } finally {
      await node.rabbitmqctl("set_vm_memory_high_watermark", "0.4");
    }
    expect(await eventually(async () => (await call(["--queue", queue, "--timeout", "3", "30"])).code === 0, 15_000)).toBe(true);
    expect(await serve.stop()).toBe(0);
  }, 60_000);

  test("a worker that reconnects without write permission says so once, takes no request until it has it back, then serves", async () => {
    const queue = uniqueQueue("nowrite");
    const user = `fibrpc-nowrite-${process.pid}`;
    await node.rabbitmqctl("add_user", user, "pw");
    await node.rabbitmqctl("set_permissions", "-p", "/", user, ".*", ".*", ".*");
    cleanup(() => node.rabbitmqctl("delete_user", user));
    const url = node.url.replace("guest:guest", `${user}:pw`);
    const serve = await worker(["--queue", queue], url);
    // A running channel keeps a permission it has used (RabbitMQ caches it): the worker is
    // made to reconnect, so that its write check runs again. (configure, write, read): no write.
    await node.rabbitmqctl("set_permissions", "-p", "/", user, ".*", "^$", ".*");
    await node.rabbitmqctl("close_all_connections", "test: permissions changed");
    expect(await serve.waitForLog(/lacks write permission on queue/, 15_000)).toBe(true);
    const waiting = call(["--queue", queue, "--timeout", "30", "--wait-for-server", "30"], 40_000);
    await node.rabbitmqctl("set_permissions", "-p", "/", user, ".*", ".*", ".*");
    const answered = await waiting;
    console.log(`FIGURES write-revoked ${JSON.stringify({ code: answered.code, ms: Math.round(answered.ms) })}`);
    expect(answered.code).toBe(0);
    expect(answered.stdout).toBe("832040\n");
    expect(serve.log.match(/lacks write permission/g)).toHaveLength(1);
    expect(serve.log).toMatch(/reconnected to/);
    expect(serve.proc.exitCode).toBeNull();
    expect(await serve.stop()).toBe(0);
  }, 60_000);

  test("when the broker closes the worker's channel over a reply, it opens a new one, drops that request after two strikes, and goes on", async () => {
    const queue = uniqueQueue("oversized");
    // Channels opened from now on refuse messages over 2 KiB (406 PRECONDITION_FAILED, channel closed):
    // F(20000) has 4,180 digits, F(31) has 7.
    await node.rabbitmqctl("eval", "application:set_env(rabbit, max_message_size, 2048).");
    cleanup(() => node.rabbitmqctl("eval", "application:set_env(rabbit, max_message_size, 134217728)."));
    const serve = await worker(["--queue", queue]);
    const doomed = await call(["--queue", queue, "--timeout", "3", "20000"]);
    const after = await call(["--queue", queue, "--timeout", "5", "31"]);
    const reopened = serve.log.match(/opening a new channel/g)?.length ?? 0;
    console.log(`FIGURES channel-close ${JSON.stringify({ doomedCode: doomed.code, afterCode: after.code, reopened })}`);
    expect(reopened).toBeGreaterThanOrEqual(2);
    expect(serve.log).toMatch(/PRECONDITION_FAILED/);
    expect(serve.log).toMatch(/made the broker close the channel twice; acked without an answer/);
    expect(doomed.code).toBe(4);
    expect(after.code).toBe(0);
    expect(after.stdout).toBe("1346269\n");
    expect(serve.proc.exitCode).toBeNull();
    expect(await serve.stop()).toBe(0);
  }, 60_000);

  test("a drain stuck behind a blocked broker ends at --drain-timeout with 0; a second signal ends it at once, non-zero", async () => {
    const queue = uniqueQueue("stuck");
    const args = ["--queue", queue, "--prefetch", "1", "--drain-timeout", "1500ms"];
    const workers = await Promise.all([worker(args), worker(args)]);
    const publisher = await amqp.connect(node.url);
    publisher.on("error", () => {});
    cleanup(() => publisher.close().catch(() => {}));
    const channel = await publisher.createConfirmChannel();
    await channel.consume("amq.rabbitmq.reply-to", () => {}, { noAck: true });
    // Frozen workers take a request each into their socket buffers; the alarm then blocks their replies.
    for (const each of workers) each.proc.kill("SIGSTOP");
    cleanup(() => workers.forEach((each) => each.proc.kill("SIGCONT")));
    for (const n of [10, 11]) channel.sendToQueue(queue, Buffer.from(String(n)), { replyTo: "amq.rabbitmq.reply-to", correlationId: String(n) });
    await channel.waitForConfirms();
    await node.rabbitmqctl("set_vm_memory_high_watermark", "absolute", "1");
    try {
      for (const each of workers) each.proc.kill("SIGCONT");
      // Each has published its reply into the alarm: the broker says so by blocking its connection.
      for (const each of workers) expect(await each.waitForLog(/broker blocked this connection/)).toBe(true);
      const [patient, impatient] = workers as [ServeProcess, ServeProcess];
      const patientStarted = performance.now();
      const patientCode = patient.stop("SIGTERM");
      impatient.proc.kill("SIGTERM");
      expect(await impatient.waitForLog(/shutting down/)).toBe(true); // the first signal has started the drain
      const impatientCode = await impatient.stop("SIGTERM");
      const code = await patientCode;
      console.log(`FIGURES drain-timeout ${JSON.stringify({ patientCode: code, patientMs: Math.round(performance.now() - patientStarted), impatientCode })}`);
      expect(code).toBe(0);
      expect(patient.log).toMatch(/drain did not finish within 1.5s/);
      expect(impatientCode).toBe(143);
    } finally {
      await node.rabbitmqctl("set_vm_memory_high_watermark", "0.4");
    }
  }, 60_000);

  test("with a 2 s heartbeat, back-to-back requests at --max-n never cost the connection", async () => {
    const queue = uniqueQueue("heartbeat");
    const maxN = 2_000_000;
    const serve = await worker(["--queue", queue, "--max-n", String(maxN), "--prefetch", "64"], `${node.url}?heartbeat=2`);
    const count = 64;
    const started = performance.now();
    const result = await call(["--queue", queue, "--timeout", "60", "--json", ...Array.from({ length: count }, () => String(maxN))], 90_000);
    const workMs = performance.now() - started;
    console.log(`FIGURES heartbeat ${JSON.stringify({ requests: count, code: result.code, workMs: Math.round(workMs) })}`);
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split("\n").length).toBe(count);
    expect(serve.log).not.toMatch(/connection lost|missed heartbeats/i);
    expect(await serve.stop()).toBe(0);
  }, 120_000);
});
