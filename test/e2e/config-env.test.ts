/** Every flag has an environment variable that --help names, by one naming rule, and an explicit flag beats it. */
import "../support/preflight.ts";
import { describe, expect, test } from "bun:test";
import type { ArgsDef } from "citty";
import benchCommand from "../../src/commands/bench.ts";
import callCommand from "../../src/commands/call.ts";
import healthCommand from "../../src/commands/health.ts";
import serveCommand from "../../src/commands/serve.ts";
import { deleteQueue, uniqueQueue } from "../support/broker.ts";
import { runFibrpc, ServeProcess, serveDuringSuite } from "../support/fibrpc.ts";

describe("--help names the environment variable of every flag", () => {
  for (const [name, command] of [
    ["serve", serveCommand],
    ["call", callCommand],
    ["health", healthCommand],
    ["bench", benchCommand],
  ] as const) {
    test(name, async () => {
      const help = await runFibrpc([name, "--help"]);
      expect(help.code).toBe(0);
      const envNames = Object.values(command.args as ArgsDef).flatMap((def) => ("env" in def && typeof def.env === "string" ? [def.env] : []));
      for (const env of envNames) expect(help.stdout).toContain(`env ${env}`);
    });
  }
});

describe("flags win over the environment", () => {
  test("serve --max-n over FIBRPC_SERVE_MAX_N; call --no-json over FIBRPC_CALL_JSON, --timeout over FIBRPC_CALL_TIMEOUT", async () => {
    const queue = uniqueQueue("flag-wins");
    const serve = await ServeProcess.start(["--queue", queue, "--max-n", "100"], { FIBRPC_SERVE_MAX_N: "5" });
    try {
      const result = await runFibrpc(["call", "50", "--queue", queue, "--no-json", "--timeout", "10s"], {
        env: { FIBRPC_CALL_JSON: "1", FIBRPC_CALL_TIMEOUT: "not-a-duration", FIBRPC_QUEUE: uniqueQueue("absent") },
      });
      expect(result).toMatchObject({ code: 0, stdout: "12586269025\n", stderr: "" });
    } finally {
      await serve.stop();
      await deleteQueue(queue);
    }
  });
});

describe("one command's variables never change another", () => {
  const { queue } = serveDuringSuite("env-rule", ["--max-n", "100"]);

  test("the old FIBRPC_TIMEOUT and FIBRPC_JSON still set call's, with one warning line each naming the new variable", async () => {
    const result = await runFibrpc(["call", "10", "--queue", queue], { env: { FIBRPC_JSON: "yes", FIBRPC_TIMEOUT: "5s" } });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ n: 10, ok: true, value: "55", trace_id: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(result.stderr.split("\n").filter(Boolean).sort()).toEqual([
      "fibrpc: WARNING: FIBRPC_JSON is deprecated: set FIBRPC_CALL_JSON instead",
      "fibrpc: WARNING: FIBRPC_TIMEOUT is deprecated: set FIBRPC_CALL_TIMEOUT instead",
    ]);
  });

  test("FIBRPC_TIMEOUT, set for call, no longer changes bench; FIBRPC_BENCH_TIMEOUT does", async () => {
    const ignored = await runFibrpc(["bench", "--queue", queue, "--requests", "5", "--json"], { env: { FIBRPC_TIMEOUT: "not-a-duration", FIBRPC_JSON: "0" } });
    expect(ignored).toMatchObject({ code: 0, stderr: "" });
    expect(JSON.parse(ignored.stdout)).toMatchObject({ calls: 5, ok: 5 });
    const read = await runFibrpc(["bench", "--queue", queue, "--requests", "5"], { env: { FIBRPC_BENCH_TIMEOUT: "not-a-duration" } });
    expect(read.code).toBe(2);
    expect(read.stderr).toBe("fibrpc: FIBRPC_BENCH_TIMEOUT (for --timeout) needs a positive duration such as 2, 0.5, 500ms, 2s or 1m; got 'not-a-duration'\n");
  });

  test("serve's old FIBRPC_MAX_N still works for serve, with a warning in its log", async () => {
    const own = uniqueQueue("env-legacy-serve");
    const serve = await ServeProcess.start(["--queue", own, "--log-format", "json"], { FIBRPC_MAX_N: "20" });
    try {
      expect(serve.log).toContain('"msg":"FIBRPC_MAX_N is deprecated: set FIBRPC_SERVE_MAX_N instead"');
      const result = await runFibrpc(["call", "21", "--queue", own]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain("OUT_OF_RANGE");
    } finally {
      await serve.stop();
      await deleteQueue(own);
    }
  });
});
