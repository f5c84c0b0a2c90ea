import "../support/preflight.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import amqp, { type Options } from "amqplib";
import { BROKER_URL, deleteQueue, eventually, uniqueQueue } from "../support/broker.ts";
import { runFibrpc, ServeProcess } from "../support/fibrpc.ts";
import { parseSamples, probe, scrape, series, startHttpServe, type HttpServe } from "../support/http-serve.ts";

const DIRECT_REPLY_TO = "amq.rabbitmq.reply-to";

/** Publishes raw requests as another program would, and waits for `expectReplies` answers on direct reply-to. */
async function publishRaw(queue: string, requests: { body: string; properties: Options.Publish }[], expectReplies: number): Promise<number> {
  const connection = await amqp.connect(BROKER_URL);
  try {
    const channel = await connection.createConfirmChannel();
    let replies = 0;
    await channel.consume(DIRECT_REPLY_TO, () => replies++, { noAck: true });
    for (const { body, properties } of requests) channel.sendToQueue(queue, Buffer.from(body), properties);
    await channel.waitForConfirms();
    await eventually(() => replies >= expectReplies, 10_000);
    return replies;
  } finally {
    await connection.close().catch(() => {});
  }
}

async function promtool(text: string): Promise<{ code: number; output: string }> {
  const proc = Bun.spawn(["promtool", "check", "metrics"], { stdin: new TextEncoder().encode(text), stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, output: out + err };
}

/**
 * promtool reads the text format only; OpenMetrics goes through the parser of Prometheus's reference
 * Python client (Debian's python3-prometheus-client), which is strict about it (names, # EOF, histograms).
 */
async function openMetricsParser(text: string): Promise<{ code: number; output: string }> {
  const script = [
    "import sys",
    "from prometheus_client.openmetrics.parser import text_string_to_metric_families",
    "families = list(text_string_to_metric_families(sys.stdin.read()))",
    "print(' '.join(f'{family.name}:{family.type}' for family in families))",
  ].join("\n");
  const proc = Bun.spawn(["/usr/bin/python3", "-c", script], { stdin: new TextEncoder().encode(text), stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, output: out + err };
}

describe("serve --http: the scraped counters equal what was sent", () => {
  // A quote and a backslash in the queue name: the label value must be escaped, and promtool checks it was.
  const queue = `${uniqueQueue("metrics")}-"q\\`;
  let http: HttpServe;

  beforeAll(async () => {
    http = await startHttpServe(["--queue", queue, "--max-n", "1000"]);
  });
  afterAll(async () => {
    await http?.serve.stop();
    await deleteQueue(queue);
  });

  test("a mix of good, OUT_OF_RANGE, malformed, expired and unanswerable requests", async () => {
    expect((await runFibrpc(["call", "--queue", queue, "1", "2", "3", "4", "5"])).stdout).toBe("1\n1\n2\n3\n5\n");
    const outOfRange = await runFibrpc(["call", "--queue", queue, "1001", "1002"]);
    expect(outOfRange.code).toBe(1);
    expect(outOfRange.stderr).toContain("OUT_OF_RANGE");
    const replyTo = { replyTo: DIRECT_REPLY_TO };
    const malformed = ["abc", "", "-1"].map((body, index) => ({ body, properties: { ...replyTo, correlationId: `bad-${index}` } }));
    expect(await publishRaw(queue, malformed, malformed.length)).toBe(3);
    // Sent a minute ago with 5 s to live: RabbitMQ counts TTL from its arrival and delivers it; the worker sees it expired.
    const aMinuteAgo = Math.floor(Date.now() / 1000) - 60;
    const expired = [0, 1].map((index) => ({
      body: "30",
      properties: { ...replyTo, correlationId: `old-${index}`, timestamp: aMinuteAgo, expiration: "5000" },
    }));
    const unanswerable = [0, 1].map((index) => ({ body: "7", properties: { correlationId: `nobody-${index}` } }));
    await publishRaw(queue, [...expired, ...unanswerable], 0);

    const requests = (outcome: string, code?: string): string => series("fibrpc_requests_total", { queue, outcome, ...(code ? { code } : {}) });
    let samples = new Map<string, number>();
    const total = (): number => [...samples].filter(([name]) => name.startsWith("fibrpc_requests_total")).reduce((sum, [, value]) => sum + value, 0);
    expect(
      await eventually(async () => {
        samples = await scrape(http.base);
        return total() >= 14 && samples.get("fibrpc_in_flight") === 0;
      }),
    ).toBe(true);
    const labelled = { queue };
    expect({
      ok: samples.get(requests("ok")),
      outOfRange: samples.get(requests("error", "OUT_OF_RANGE")),
      invalid: samples.get(requests("error", "INVALID_ARGUMENT")),
      internal: samples.get(requests("error", "INTERNAL")),
      expired: samples.get(requests("expired")),
      dropped: samples.get(requests("dropped")),
      total: total(),
      answered: samples.get(series("fibrpc_request_duration_seconds_count", labelled)),
      // call stamps its requests (5 + 2) and so did the expired ones (2); the malformed and unanswerable ones carried none.
      timestamped: samples.get(series("fibrpc_request_queue_wait_seconds_count", labelled)),
      waitedOverAMinute:
        (samples.get(series("fibrpc_request_queue_wait_seconds_count", labelled)) ?? 0) -
        (samples.get(series("fibrpc_request_queue_wait_seconds_bucket", { queue, le: "30" })) ?? 0),
      redelivered: samples.get(series("fibrpc_redelivered_total", labelled)),
      reconnects: samples.get("fibrpc_reconnects_total"),
      connected: samples.get("fibrpc_broker_connected"),
      draining: samples.get("fibrpc_draining"),
      prefetch: samples.get("fibrpc_prefetch"),
    }).toEqual({
      ok: 5,
      outOfRange: 2,
      invalid: 3,
      internal: 0,
      expired: 2,
      dropped: 2,
      total: 14,
      answered: 10,
      timestamped: 9,
      waitedOverAMinute: 2,
      redelivered: 0,
      reconnects: 0,
      connected: 1,
      draining: 0,
      prefetch: 64,
    });
    const version = (await runFibrpc(["--version"])).stdout.trim().split(" ")[1];
    expect([...samples.keys()].find((name) => name.startsWith("fibrpc_build_info"))).toContain(`version="${version}"`);
    for (const name of [
      "process_cpu_seconds_total",
      "process_resident_memory_bytes",
      "process_start_time_seconds",
      "process_open_fds",
      "process_max_fds",
      "process_virtual_memory_bytes",
    ]) {
      expect({ name, value: (samples.get(name) ?? 0) > 0 }).toEqual({ name, value: true });
    }
    console.log(`SCRAPE after the mix\n${await (await fetch(`${http.base}/metrics`)).text()}`);
  });

  test("promtool check metrics finds nothing wrong in the text format", async () => {
    const response = await fetch(`${http.base}/metrics`);
    expect(response.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const result = await promtool(await response.text());
    expect(result).toEqual({ code: 0, output: "" });
  });

  test("OpenMetrics when asked for it: the reference parser takes it; the same samples as the text format", async () => {
    const response = await fetch(`${http.base}/metrics`, { headers: { accept: "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5" } });
    expect(response.headers.get("content-type")).toBe("application/openmetrics-text; version=1.0.0; charset=utf-8");
    const text = await response.text();
    expect(text.endsWith("\n# EOF\n")).toBe(true);
    expect(text).toContain("# TYPE fibrpc_requests counter\n");
    const parsed = await openMetricsParser(text);
    expect(parsed.code).toBe(0);
    expect(parsed.output).toContain("fibrpc_requests:counter fibrpc_request_duration_seconds:histogram");
    const plain = parseSamples(await (await fetch(`${http.base}/metrics`)).text());
    const open = parseSamples(text);
    const stable = (samples: Map<string, number>): string[] => [...samples.keys()].filter((name) => !name.startsWith("process_")).sort();
    expect(stable(open)).toEqual(stable(plain));
  });

  test("GET and HEAD on three paths; 404 elsewhere; 405 with Allow for other methods; no secret anywhere", async () => {
    const seen: string[] = [];
    const ask = async (path: string, method = "GET"): Promise<Response> => {
      const response = await fetch(`${http.base}${path}`, { method });
      seen.push(`${method} ${path} ${response.status}\n${[...response.headers].join("\n")}\n${await response.clone().text()}`);
      return response;
    };
    expect((await ask("/livez")).status).toBe(200);
    expect(await (await ask("/readyz")).text()).toBe("ready: consuming\n");
    const head = await ask("/metrics", "HEAD");
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
    expect((await ask("/readyz", "HEAD")).status).toBe(200);
    expect((await ask("/")).status).toBe(404);
    expect((await ask("/metrics/")).status).toBe(404);
    expect((await ask("/favicon.ico")).status).toBe(404);
    for (const method of ["POST", "PUT", "DELETE", "OPTIONS", "PATCH"]) {
      const response = await ask("/metrics", method);
      expect({ method, status: response.status, allow: response.headers.get("allow") }).toEqual({ method, status: 405, allow: "GET, HEAD" });
    }
    // The broker URL, its user and its password (guest:guest here) are nowhere in what is served.
    const everything = seen.join("\n");
    expect(everything).not.toContain("guest");
    expect(everything).not.toContain("amqp://");
  });
});

describe("serve --http refuses what it cannot do, before consuming", () => {
  const bad = [":99999", "9464", "::1:9464", "http://localhost:9464", "no_such:1"];
  for (const value of bad) {
    test(`--http '${value}' is a usage error: exit 2, one line`, async () => {
      const result = await runFibrpc(["serve", "--http", value, "--queue", uniqueQueue("bad-http")]);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/^fibrpc: --http .*e\.g\. :9464/);
      expect(result.stderr.trim().split("\n")).toHaveLength(1);
    });
  }

  test("and from FIBRPC_SERVE_HTTP too", async () => {
    const result = await runFibrpc(["serve", "--queue", uniqueQueue("bad-http")], { env: { FIBRPC_SERVE_HTTP: "localhost" } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--http needs HOST:PORT or :PORT; got 'localhost'");
  });

  test("a port in use (by another worker's --http): one line, exit 1, and the queue never consumed", async () => {
    const queue = uniqueQueue("port-taken");
    const first = await startHttpServe(["--queue", queue]);
    try {
      const port = new URL(first.base).port;
      const second = await runFibrpc(["serve", "--queue", queue, "--http", `127.0.0.1:${port}`]);
      expect(second.code).toBe(1);
      expect(second.stderr).toBe(`fibrpc: --http 127.0.0.1:${port}: port ${port} is already in use (another fibrpc serve?)\n`);
      // The first worker still answers its probes: the second did not take half its connections.
      for (let attempt = 0; attempt < 20; attempt++) expect((await probe(first.base, "/readyz")).status).toBe(200);
    } finally {
      await first.serve.stop();
      await deleteQueue(queue);
    }
  });

  test("an address that is not this host's: exit 1", async () => {
    const result = await runFibrpc(["serve", "--queue", uniqueQueue("not-here"), "--http", "192.0.2.1:9464"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe("fibrpc: --http 192.0.2.1:9464: 192.0.2.1 is not an address of this host\n");
  });

  test("before the broker answers, /readyz says not ready and /livez alive", async () => {
    const queue = uniqueQueue("no-broker");
    const worker = await ServeProcess.start(
      ["--queue", queue, "--http", "127.0.0.1:0", "--url", "amqp://guest:guest@127.0.0.1:1"],
      {},
      { waitFor: /retrying with backoff/ },
    );
    try {
      const base = `http://127.0.0.1:${/HTTP on 127\.0\.0\.1:(\d+)/.exec(worker.log)?.[1]}`;
      const ready = await probe(base, "/readyz");
      expect(ready.status).toBe(503);
      expect(ready.body).toMatch(/^not ready: (re)?connecting to the broker\n$/);
      expect(await probe(base, "/livez")).toEqual({ status: 200, body: "alive\n" });
      expect((await scrape(base)).get("fibrpc_broker_connected")).toBe(0);
    } finally {
      expect(await worker.stop()).toBe(0);
    }
  });
});
