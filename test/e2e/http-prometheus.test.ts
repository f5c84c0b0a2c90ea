import "../support/preflight.ts";
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { deleteQueue, eventually, uniqueQueue } from "../support/broker.ts";
import { runFibrpc } from "../support/fibrpc.ts";
import { startHttpServe } from "../support/http-serve.ts";

/** A real Prometheus server (Debian's `prometheus`), on a port of its own, its data in a temp folder. */
class PrometheusServer {
  private output = "";

  private constructor(
    readonly proc: Subprocess<"ignore", "pipe", "pipe">,
    readonly base: string,
    private readonly dir: string,
  ) {
    for (const stream of [proc.stdout, proc.stderr]) void this.collect(stream);
  }

  /** Scrapes `target` (host:port) every second. Retries on another port if the one it picked was taken meanwhile. */
  static async start(target: string): Promise<PrometheusServer> {
    const dir = mkdtempSync("/tmp/fibrpc-prometheus-");
    const config = join(dir, "prometheus.yml");
    writeFileSync(
      config,
      [
        "global:",
        "  scrape_interval: 1s",
        "  scrape_timeout: 1s",
        "scrape_configs:",
        "  - job_name: fibrpc",
        "    static_configs:",
        `      - targets: ['${target}']`,
        "",
      ].join("\n"),
    );
    for (let attempt = 0; attempt < 5; attempt++) {
      const port = 45_000 + Math.floor(Math.random() * 1000);
      const proc = Bun.spawn(
        ["prometheus", `--config.file=${config}`, `--storage.tsdb.path=${join(dir, "data")}`, `--web.listen-address=127.0.0.1:${port}`, "--log.level=warn"],
        { stdin: "ignore", stdout: "pipe", stderr: "pipe" },
      );
      const server = new PrometheusServer(proc, `http://127.0.0.1:${port}`, dir);
      const exited = proc.exited.then(() => "exited" as const);
      const ready = eventually(async () => (await fetch(`${server.base}/-/ready`).catch(() => undefined))?.status === 200, 30_000, 100).then((ok) =>
        ok ? ("ready" as const) : ("slow" as const),
      );
      const outcome = await Promise.race([ready, exited]);
      if (outcome === "ready") return server;
      proc.kill("SIGKILL");
      await proc.exited;
      if (!/address already in use/.test(server.output)) {
        rmSync(dir, { recursive: true, force: true });
        throw new Error(`prometheus did not start (${outcome}):\n${server.output}`);
      }
    }
    rmSync(dir, { recursive: true, force: true });
    throw new Error("prometheus found no free port");
  }

  async query(promql: string): Promise<unknown> {
    const response = await fetch(`${this.base}/api/v1/query?query=${encodeURIComponent(promql)}`);
    return response.json();
  }

  async targets(): Promise<{ health: string; lastError: string }[]> {
    const body = (await (await fetch(`${this.base}/api/v1/targets`)).json()) as { data: { activeTargets: { health: string; lastError: string }[] } };
    return body.data.activeTargets;
  }

  /** Stops the server and removes its data folder, whatever happened. */
  async stop(): Promise<void> {
    this.proc.kill("SIGTERM");
    const timer = setTimeout(() => this.proc.kill("SIGKILL"), 10_000);
    await this.proc.exited;
    clearTimeout(timer);
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async collect(stream: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    for await (const chunk of stream) this.output += decoder.decode(chunk, { stream: true });
  }
}

/** Every line of the ```promql blocks in docs/metrics.md: the cheat-sheet must run, not just read well. */
function cheatSheet(): string[] {
  const doc = readFileSync(resolve(import.meta.dir, "../../docs/metrics.md"), "utf8");
  return [...doc.matchAll(/```promql\n([\s\S]*?)```/g)].flatMap((block) => (block[1] ?? "").split("\n").filter((line) => line.trim() !== ""));
}

interface VectorResult {
  status: string;
  data: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
}

describe("a real Prometheus scraping serve --http", () => {
  test("scrapes it (OpenMetrics, as Prometheus asks), answers fibrpc_requests_total by its query API, and runs the cheat-sheet", async () => {
    const queue = uniqueQueue("prometheus");
    const http = await startHttpServe(["--queue", queue]);
    let prometheus: PrometheusServer | undefined;
    try {
      expect((await runFibrpc(["call", "--queue", queue, "10", "20", "30"])).code).toBe(0);
      prometheus = await PrometheusServer.start(new URL(http.base).host);
      const promql = `fibrpc_requests_total{queue="${queue}",outcome="ok"}`;
      let answer: VectorResult | undefined;
      const scraped = await eventually(
        async () => {
          answer = (await prometheus?.query(promql)) as VectorResult;
          return answer.data.result[0]?.value[1] === "3";
        },
        20_000,
        250,
      );
      console.log(`PROMETHEUS GET /api/v1/query?query=${promql}\n${JSON.stringify(answer)}`);
      expect(scraped).toBe(true);
      expect(answer?.data.result[0]?.metric).toMatchObject({ __name__: "fibrpc_requests_total", job: "fibrpc", queue, outcome: "ok" });
      // Scraped without a parse error, in the format it negotiated (OpenMetrics first in Prometheus's Accept header).
      expect((await prometheus.targets()).map(({ health, lastError }) => ({ health, lastError }))).toEqual([{ health: "up", lastError: "" }]);
      const p99 = (await prometheus.query(`histogram_quantile(0.99, sum by (le) (fibrpc_request_duration_seconds_bucket{queue="${queue}"}))`)) as VectorResult;
      expect(Number(p99.data.result[0]?.value[1])).toBeGreaterThan(0);
      const expressions = cheatSheet();
      expect(expressions.length).toBeGreaterThan(10);
      for (const expression of expressions) {
        const result = (await prometheus.query(expression)) as { status: string; error?: string };
        expect({ expression, status: result.status, error: result.error }).toEqual({ expression, status: "success", error: undefined });
      }
    } finally {
      await prometheus?.stop();
      await http.serve.stop();
      await deleteQueue(queue);
    }
  }, 60_000);
});
