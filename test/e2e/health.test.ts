import "../support/preflight.ts";
import { afterEach, describe, expect, test } from "bun:test";
import { BROKER_URL, declareQueue, deleteQueue, eventually, queueState, uniqueQueue } from "../support/broker.ts";
import { runFibrpc, ServeProcess, serveDuringSuite, type RunResult } from "../support/fibrpc.ts";
import { queueTotals } from "../support/rabbitmqctl.ts";
import { fillQueue, startTestWorker, type TestWorker } from "../support/test-worker.ts";

interface Perf {
  value: number;
  unit: string;
  warn: string;
  crit: string;
}

interface Status {
  state: string;
  text: string;
  perf: Record<string, Perf>;
}

/** Reads the plugin status line `FIBRPC STATE - text | label=value[unit];warn;crit ...`. */
function parseStatus(stdout: string): Status {
  const match = /^FIBRPC (OK|WARNING|CRITICAL|UNKNOWN) - (.*?)(?: \| (.*))?\n$/.exec(stdout);
  if (!match) throw new Error(`not a status line: ${JSON.stringify(stdout)}`);
  const perf: Record<string, Perf> = {};
  for (const item of (match[3] ?? "").split(" ").filter(Boolean)) {
    const [label = "", rest = ""] = item.split("=");
    const [raw = "", warn = "", crit = ""] = rest.split(";");
    const unit = raw.replace(/^[-\d.]+/, "");
    perf[label] = { value: Number(raw.slice(0, raw.length - unit.length)), unit, warn, crit };
  }
  return { state: match[1] ?? "", text: match[2] ?? "", perf };
}

async function health(args: string[], env: Record<string, string | undefined> = {}): Promise<RunResult & { status: Status }> {
  const result = await runFibrpc(["health", ...args], { env });
  return { ...result, status: parseStatus(result.stdout) };
}

describe("fibrpc health against a real fibrpc serve", () => {
  // Classic, so that rabbitmqctl's unacked count is current (see queueTotals).
  const { queue } = serveDuringSuite("health-ok", ["--queue-type", "classic"]);

  test("OK (0): consumers, backlog and a verified round trip, with perfdata", async () => {
    const result = await health(["--queue", queue]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
    expect(result.status.state).toBe("OK");
    expect(result.status.text).toMatch(new RegExp(`^${queue}: 1 consumer, 0 ready, round trip [\\d.]+m?s$`));
    expect(result.status.perf.consumers).toEqual({ value: 1, unit: "", warn: "", crit: "1:" });
    expect(result.status.perf.ready).toEqual({ value: 0, unit: "", warn: "100", crit: "1000" });
    expect(result.status.perf.rtt).toMatchObject({ unit: "s", warn: "0.5", crit: "2" });
    expect(result.status.perf.rtt?.value).toBeGreaterThan(0);
  });

  test("the probe leaves nothing behind: no request ready or unacked, the worker still the only consumer", async () => {
    expect((await health(["--queue", queue])).code).toBe(0);
    expect(
      await eventually(
        async () => {
          const totals = await queueTotals(queue);
          return totals?.ready === 0 && totals.unacked === 0 && totals.consumers === 1;
        },
        10_000,
        200,
      ),
    ).toBe(true);
  });

  test("--json: one object with state, exit code, observation and perfdata", async () => {
    const result = await runFibrpc(["health", "--queue", queue, "--json"]);
    expect(result.code).toBe(0);
    expect(result.stdout.trimEnd().split("\n")).toHaveLength(1);
    expect(JSON.parse(result.stdout)).toMatchObject({
      state: "OK",
      exitCode: 0,
      queue,
      reasons: [],
      observed: { consumers: 1, ready: 0, probe: { kind: "answered", n: 90, value: "2880067194370816120" } },
    });
  });

  test("--no-probe (and FIBRPC_HEALTH_PROBE=0): no round trip, no rtt perfdata", async () => {
    for (const run of [health(["--queue", queue, "--no-probe"]), health(["--queue", queue], { FIBRPC_HEALTH_PROBE: "0" })]) {
      const result = await run;
      expect(result.code).toBe(0);
      expect(result.status.text).toEndWith("probe off");
      expect(result.status.perf.rtt).toBeUndefined();
    }
  });

  test("CRITICAL (2): fewer consumers than --min-consumers (env works too)", async () => {
    const result = await health(["--queue", queue], { FIBRPC_HEALTH_MIN_CONSUMERS: "2" });
    expect(result.code).toBe(2);
    expect(result.status.text).toStartWith(`${queue}: too few consumers (need at least 2)`);
    expect(result.status.perf.consumers).toMatchObject({ value: 1, crit: "2:" });
  });
});

describe("fibrpc health: failing workers and queues", () => {
  let queue = "";
  let workers: (TestWorker | ServeProcess)[] = [];

  async function worker(options: Parameters<typeof startTestWorker>[0]): Promise<void> {
    workers.push(await startTestWorker(options));
  }

  afterEach(async () => {
    for (const each of workers) await (each instanceof ServeProcess ? each.stop() : each.close());
    workers = [];
    await deleteQueue(queue);
  });

  test("WARNING (1) and CRITICAL (2) from backlog: a stalled worker with requests piling up", async () => {
    queue = uniqueQueue("health-backlog");
    await worker({ queue, stall: true });
    await fillQueue(queue, 151);
    expect(await eventually(async () => (await queueState(queue))?.messageCount === 150)).toBe(true);

    const warning = await health(["--queue", queue, "--no-probe"]);
    expect(warning.code).toBe(1);
    expect(warning.status).toMatchObject({ state: "WARNING", text: `${queue}: backlog above 100 (warning); 1 consumer, 150 ready, probe off` });
    expect(warning.status.perf.ready).toEqual({ value: 150, unit: "", warn: "100", crit: "1000" });

    const critical = await health(["--queue", queue, "--no-probe", "--backlog-warning", "~:50", "--backlog-critical", "120"]);
    expect(critical.code).toBe(2);
    expect(critical.status.text).toStartWith(`${queue}: backlog above 120 (critical)`);
    expect(critical.status.perf.ready).toEqual({ value: 150, unit: "", warn: "~:50", crit: "120" });
  });

  test("CRITICAL (2): the same stalled worker never answers the probe (probe timeout)", async () => {
    queue = uniqueQueue("health-stall");
    await worker({ queue, stall: true });
    await fillQueue(queue, 1);
    const result = await health(["--queue", queue, "-t", "3"]); // probe deadline 2.4 s, 0.6 s kept to close and report
    expect(result.code).toBe(2);
    expect(result.status.text).toMatch(/^.*: probe F\(90\) got no answer within [\d.]+m?s; 1 consumer, 0 ready$/);
  });

  test("WARNING (1) and CRITICAL (2) from a slow worker's round trip", async () => {
    queue = uniqueQueue("health-slow");
    await worker({ queue, delayMs: 400, answer: () => "2880067194370816120" });

    const warning = await health(["--queue", queue, "--rtt-warning", "300ms", "--rtt-critical", "20s"]);
    expect(warning.code).toBe(1);
    expect(warning.status.text).toStartWith(`${queue}: round trip above 0.3 s (warning); 1 consumer, 0 ready, round trip`);
    expect(warning.status.perf.rtt).toMatchObject({ unit: "s", warn: "0.3", crit: "20" });
    expect(warning.status.perf.rtt?.value).toBeGreaterThanOrEqual(0.4);

    const critical = await health(["--queue", queue], { FIBRPC_HEALTH_RTT_WARNING: "0.1", FIBRPC_HEALTH_RTT_CRITICAL: "0.3" });
    expect(critical.code).toBe(2);
    expect(critical.status.text).toStartWith(`${queue}: round trip above 0.3 s (critical)`);
    expect(critical.status.perf.rtt).toMatchObject({ warn: "0.1", crit: "0.3" });
  });

  test("CRITICAL (2): a worker that answers wrongly (Fibonacci in floating point)", async () => {
    queue = uniqueQueue("health-liar");
    const liar = await startTestWorker({ queue });
    workers.push(liar);
    const result = await health(["--queue", queue]);
    expect(result.code).toBe(2);
    expect(result.status.text).toStartWith(`${queue}: probe F(90) answered "2880067194370816000", expected 2880067194370816120; 1 consumer`);
    expect(result.status.perf.rtt?.unit).toBe("s");
    // The probe asks over direct reply-to: there is no reply queue for it to leave behind.
    expect(String(liar.requests[0]?.replyTo)).toStartWith("amq.rabbitmq.reply-to.");
  });

  test("CRITICAL (2): the worker answers the probe with an error reply", async () => {
    queue = uniqueQueue("health-error");
    workers.push(await ServeProcess.start(["--queue", queue, "--max-n", "50"]));
    const result = await health(["--queue", queue]);
    expect(result.code).toBe(2);
    expect(result.status.text).toStartWith(`${queue}: probe F(90) got an error reply: server error OUT_OF_RANGE`);
  });

  test("CRITICAL (2): the queue exists but nobody consumes; no probe is sent", async () => {
    queue = uniqueQueue("health-idle");
    await declareQueue(queue, "classic");
    const result = await health(["--queue", queue]);
    expect(result.code).toBe(2);
    expect(result.status.text).toBe(`${queue}: no consumer (need at least 1); 0 consumers, 0 ready, probe not sent`);
    expect(result.status.perf.consumers).toEqual({ value: 0, unit: "", warn: "", crit: "1:" });
    expect((await queueState(queue))?.messageCount).toBe(0);
  });

  test("CRITICAL (2): the queue does not exist, and health does not create it", async () => {
    queue = uniqueQueue("health-missing");
    const result = await health(["--queue", queue]);
    expect(result.code).toBe(2);
    expect(result.status).toEqual({ state: "CRITICAL", text: `${queue}: queue does not exist`, perf: {} });
    expect(await queueState(queue)).toBeNull();
  });
});

describe("fibrpc health: the broker itself", () => {
  test("CRITICAL (2): broker down (nothing listens on the port)", async () => {
    const result = await health(["--url", "amqp://guest:pw-down@127.0.0.1:1"]);
    expect(result.code).toBe(2);
    expect(result.status.text).toBe("rpc_queue: broker unreachable at amqp://guest:***@127.0.0.1:1: connection refused");
  });

  test("CRITICAL (2): wrong password, which never appears in the output", async () => {
    const url = BROKER_URL.replace(/\/\/([^:]+):[^@]*@/, "//$1:s3cret-wrong@");
    const result = await runFibrpc(["health", "--json"], { env: { AMQP_URL: url } });
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout)).toMatchObject({ state: "CRITICAL", observed: { reached: false, failure: "refused" } });
    expect(result.stdout).toContain("refused the login");
    expect(result.stdout + result.stderr).not.toContain("s3cret-wrong");
  });

  test("CRITICAL (2): a virtual host that does not exist", async () => {
    const result = await health(["--url", `${BROKER_URL.replace(/\/$/, "")}/no-such-vhost-${process.pid}`]);
    expect(result.code).toBe(2);
    expect(result.status.text).toContain("refused access to the virtual host");
  });

  test("UNKNOWN (3): our own -t/--timeout when the broker accepts TCP but never speaks AMQP", async () => {
    const silent = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    try {
      const result = await health(["--url", `amqp://guest:guest@127.0.0.1:${silent.port}`, "-t", "1"]);
      expect(result.code).toBe(3);
      expect(result.status.text).toBe("rpc_queue: no result within 1s (-t/--timeout), still connecting to the broker");
      expect(result.status.perf).toEqual({});
    } finally {
      silent.stop(true);
    }
  });
});

describe("fibrpc health: bad usage is UNKNOWN (3), with a status line", () => {
  const cases: [string, string[], Record<string, string>, string][] = [
    ["unknown flag", ["--warning", "5"], {}, "unknown option '--warning' for 'health'"],
    ["bad range", ["--backlog-warning", "ten"], {}, "--backlog-warning: 'ten' is not a threshold range"],
    ["bad duration", ["--timeout", "0"], {}, "-t/--timeout needs a positive duration"],
    ["bad env value", [], { FIBRPC_HEALTH_MIN_CONSUMERS: "many" }, "FIBRPC_HEALTH_MIN_CONSUMERS (for --min-consumers) needs a whole number"],
    ["bad boolean env", [], { FIBRPC_HEALTH_PROBE: "maybe" }, "FIBRPC_HEALTH_PROBE (for --probe) must be 1 or 0"],
  ];
  for (const [label, args, env, message] of cases) {
    test(label, async () => {
      const result = await health(args, env);
      expect(result.code).toBe(3);
      expect(result.status.state).toBe("UNKNOWN");
      expect(result.status.text).toStartWith(message);
    });
  }

  test("--help documents every state and exits 0", async () => {
    const result = await runFibrpc(["health", "--help"]);
    expect(result.code).toBe(0);
    for (const word of ["0  OK", "1  WARNING", "2  CRITICAL", "3  UNKNOWN", "--no-probe", "FIBRPC_HEALTH_TIMEOUT", "--backlog-critical"]) {
      expect(result.stdout).toContain(word);
    }
  });
});
