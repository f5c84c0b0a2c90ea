import "../support/preflight.ts";
import { describe, expect, test } from "bun:test";
import { BROKER_URL, deleteQueue, uniqueQueue } from "../support/broker.ts";
import { FIBRPC, runFibrpc, serveDuringSuite, startFibrpc } from "../support/fibrpc.ts";
import { referenceFibonacci, startTestWorker } from "../support/test-worker.ts";

describe("fibrpc bench against fibrpc serve", () => {
  const { queue } = serveDuringSuite("bench", ["--max-n", "1000"]);

  test("--json: every request answered and verified, exit 0, no progress line when not a TTY", async () => {
    const result = await runFibrpc(["bench", "--queue", queue, "--requests", "300", "--concurrency", "8", "--connections", "2", "--n", "0..500", "--json"]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
    const summary = JSON.parse(result.stdout);
    expect(summary).toMatchObject({ queue, n: "0..500", concurrency: 8, connections: 2, calls: 300, ok: 300, failed: 0, errors: {} });
    expect(summary.callsPerSecond).toBeGreaterThan(0);
    expect(summary.latencyMs.p50).toBeLessThanOrEqual(summary.latencyMs.p99);
  });

  // `script` (util-linux) runs the command on a pseudo-terminal, as a user's shell would.
  test.skipIf(Bun.which("script") === null)("on a terminal, a progress line is redrawn in place and erased at the end", async () => {
    const command = `${FIBRPC} bench --queue ${queue} --duration 1200ms --concurrency 4`;
    const proc = Bun.spawn(["script", "-qec", command, "/dev/null"], {
      env: { ...process.env, NO_COLOR: "1", AMQP_URL: BROKER_URL },
      stdout: "pipe",
      stderr: "pipe",
      stdin: "ignore",
    });
    const [screen, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
    expect(code).toBe(0);
    expect(screen).toMatch(/\r {2}\d+ calls {2}\d+\/s {2}0 errors {2}[\d.]+m?s\/1\.2s\u001b\[K/);
    expect(screen).toContain("\r\u001b[K"); // erased before the summary
    expect(screen).toContain("calls/s");
  });

  test("error replies are counted by code and the run exits 1", async () => {
    const result = await runFibrpc(["bench", "--queue", queue, "--requests", "50", "--concurrency", "4", "--n", "2000"]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("errors   OUT_OF_RANGE 50");
    expect(result.stderr).toBe("fibrpc: 50 of 50 calls failed: OUT_OF_RANGE 50\n");
  });

  test("SIGINT stops the run early: what ran is still reported, exit 130", async () => {
    // A worker of the test's own, so the test can see the run under way: a request that came after the
    // first `--concurrency` ones was sent because an answer had come back.
    const queue = uniqueQueue("bench-interrupt");
    const worker = await startTestWorker({ queue, answer: (n) => referenceFibonacci(Number(n)).toString() });
    const run = startFibrpc(["bench", "--queue", queue, "--duration", "60s", "--concurrency", "2", "--json"]);
    try {
      expect(await worker.waitForRequests(5)).toBe(true);
      run.kill("SIGINT");
      const { code, stdout } = await run.result;
      expect(code).toBe(130);
      const summary = JSON.parse(stdout);
      expect(summary.calls).toBeGreaterThanOrEqual(3);
      expect(summary.failed).toBe(0);
    } finally {
      run.kill("SIGKILL");
      await worker.close();
      await deleteQueue(queue);
    }
  });

  // Needs rabbitmqctl on the broker's own machine: skipped when the tests use a remote AMQP_URL.
  test.skipIf(!BROKER_URL.includes("127.0.0.1") && !BROKER_URL.includes("localhost"))(
    "a user who may log in but not publish: exit 6 at once, with the summary, not a hang until --timeout",
    async () => {
      const user = `fibrpc-test-bench-nowrite-${process.pid}`;
      const rabbitmqctl = (...args: string[]) => Bun.spawn(["rabbitmqctl", "-q", ...args], { stdout: "ignore", stderr: "ignore" }).exited;
      await rabbitmqctl("add_user", user, "nowrite-pw");
      await rabbitmqctl("set_permissions", "-p", "/", user, ".*", "^$", ".*");
      try {
        const url = BROKER_URL.replace(/\/\/[^@]*@/, `//${user}:nowrite-pw@`);
        const result = await runFibrpc(["bench", "--queue", queue, "--duration", "30s", "--timeout", "20s", "--url", url]);
        expect(result.code).toBe(6);
        expect(result.stderr).toContain("lacks a permission");
        expect(result.stdout).toContain("REFUSED"); // the summary counts what was refused
        expect(result.ms).toBeLessThan(15_000); // well before --duration and --timeout
      } finally {
        await rabbitmqctl("delete_user", user);
      }
    },
    40_000,
  );

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
