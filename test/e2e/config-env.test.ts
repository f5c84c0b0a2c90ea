/** Every flag has an environment variable that --help names, and an explicit flag beats it. */
import "../support/preflight.ts";
import { describe, expect, test } from "bun:test";
import type { ArgsDef } from "citty";
import callCommand from "../../src/commands/call.ts";
import serveCommand from "../../src/commands/serve.ts";
import { deleteQueue, uniqueQueue } from "../support/broker.ts";
import { runFibrpc, ServeProcess } from "../support/fibrpc.ts";

describe("--help names the environment variable of every flag", () => {
  for (const [name, command] of [
    ["serve", serveCommand],
    ["call", callCommand],
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
  test("serve --max-n over FIBRPC_MAX_N; call --no-json over FIBRPC_JSON, --timeout over FIBRPC_TIMEOUT", async () => {
    const queue = uniqueQueue("flag-wins");
    const serve = await ServeProcess.start(["--queue", queue, "--max-n", "100"], { FIBRPC_MAX_N: "5" });
    try {
      const result = await runFibrpc(["call", "50", "--queue", queue, "--no-json", "--timeout", "10s"], {
        env: { FIBRPC_JSON: "1", FIBRPC_TIMEOUT: "not-a-duration", FIBRPC_QUEUE: uniqueQueue("absent") },
      });
      expect(result).toMatchObject({ code: 0, stdout: "12586269025\n", stderr: "" });
    } finally {
      await serve.stop();
      await deleteQueue(queue);
    }
  });
});
