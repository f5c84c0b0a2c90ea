/** Every duration setting has a maximum (24h) no timer overflows; above it is bad usage, saying the maximum. */
import "../support/preflight.ts";
import { describe, expect, test } from "bun:test";
import { runFibrpc, serveDuringSuite } from "../support/fibrpc.ts";

describe("durations beyond what a timer can hold", () => {
  const { queue } = serveDuringSuite("durations");

  test.each([
    [["call", "30", "--timeout", "999999999"], {}, 2, "fibrpc: --timeout must be at most 24h; got '999999999'"],
    [["call", "30"], { FIBRPC_CALL_TIMEOUT: "25h" }, 2, "fibrpc: FIBRPC_CALL_TIMEOUT (for --timeout) must be at most 24h; got '25h'"],
    [["serve", "--drain-timeout", "100000000"], {}, 2, "fibrpc: --drain-timeout must be at most 24h; got '100000000'"],
    [["bench", "--duration", "1441m"], {}, 2, "fibrpc: --duration must be at most 24h; got '1441m'"],
    [["bench", "--timeout", "99999999999999999999"], {}, 2, "fibrpc: --timeout must be at most 24h; got '99999999999999999999'"],
  ] as const)("%p %p: exit 2, one line", async (args, env, code, line) => {
    const result = await runFibrpc([...args], { env });
    expect(result).toMatchObject({ code, stdout: "", stderr: `${line}\n` });
  });

  test("health -t 999999999: UNKNOWN (3) saying the maximum, not CRITICAL", async () => {
    const result = await runFibrpc(["health", "--queue", queue, "-t", "999999999"]);
    expect(result).toMatchObject({ code: 3, stdout: "FIBRPC UNKNOWN - -t/--timeout must be at most 24h; got '999999999'\n", stderr: "" });
  });

  test("the maximum itself works: no TimeoutOverflowWarning, an answer", async () => {
    const call = await runFibrpc(["call", "30", "--queue", queue, "--timeout", "24h"]);
    expect(call).toMatchObject({ code: 0, stdout: "832040\n", stderr: "" });
    const health = await runFibrpc(["health", "--queue", queue, "-t", "24h"]);
    expect(health.code).toBe(0);
    expect(health.stderr).toBe("");
  });
});
