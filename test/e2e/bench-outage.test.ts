import "../support/preflight.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { FIBRPC, ServeProcess } from "../support/fibrpc.ts";
import { RabbitNode } from "../support/rabbit-node.ts";

/** A broker of its own, stopped mid-run: the shared one on 5672 is never touched. */
describe("fibrpc bench when the broker goes away", () => {
  let node: RabbitNode;
  let serve: ServeProcess;

  beforeAll(async () => {
    node = await RabbitNode.start({ label: "bench" });
    serve = await ServeProcess.start(["--queue", "bench-outage"], { AMQP_URL: node.url });
  }, 60_000);
  afterAll(async () => {
    await serve?.stop("SIGKILL");
    await node?.destroy();
  });

  test("requests in flight count as UNREACHABLE, the summary is printed, exit 5", async () => {
    const proc = Bun.spawn([FIBRPC, "bench", "--queue", "bench-outage", "--duration", "60s", "--concurrency", "8", "--json"], {
      env: { ...process.env, NO_COLOR: "1", AMQP_URL: node.url },
      stdout: "pipe",
      stderr: "pipe",
    });
    await Bun.sleep(1500);
    await node.stopApp();
    const timer = setTimeout(() => proc.kill("SIGKILL"), 20_000);
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    clearTimeout(timer);
    expect(code).toBe(5);
    expect(stderr).toContain("connection to broker lost");
    expect(stderr).not.toContain("guest:guest");
    const summary = JSON.parse(stdout);
    expect(summary.ok).toBeGreaterThan(0);
    expect(summary.errors.UNREACHABLE).toBeGreaterThan(0);
    expect(Object.keys(summary.errors)).toEqual(["UNREACHABLE"]);
  }, 40_000);
});
