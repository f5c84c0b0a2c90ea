/** Arguments are never silently ignored or misread: each class of issue 13 §C on the binary. */
import "../support/preflight.ts";
import { describe, expect, test } from "bun:test";
import { runFibrpc, serveDuringSuite } from "../support/fibrpc.ts";

describe("unexpected positionals", () => {
  test.each([
    [["serve", "adv_myqueue"], 2, "fibrpc: unexpected argument 'adv_myqueue': 'fibrpc serve' takes no arguments (see 'fibrpc serve --help')\n", ""],
    [["bench", "30"], 2, "fibrpc: unexpected argument '30': 'fibrpc bench' takes no arguments (see 'fibrpc bench --help')\n", ""],
    [["health", "myqueue"], 3, "", "FIBRPC UNKNOWN - unexpected argument 'myqueue': 'fibrpc health' takes no arguments (see 'fibrpc health --help')\n"],
  ] as const)("%p", async (args, code, stderr, stdout) => {
    expect(await runFibrpc([...args])).toMatchObject({ code, stderr, stdout });
  });
});

describe("an explicitly empty value is bad usage, not 'use the environment, then the default'", () => {
  test.each([
    [["call", "30", "--url", ""], {}, 2, "option '--url' is empty"],
    [["call", "30", "--queue="], {}, 2, "option '--queue' is empty"],
    [["serve", "--queue", ""], {}, 2, "option '--queue' is empty"],
    [["call", "30"], { AMQP_URL: "" }, 2, "AMQP_URL is set but empty"],
    [["bench"], { FIBRPC_QUEUE: "" }, 2, "FIBRPC_QUEUE (for --queue) is set but empty"],
    [["health", "--url", ""], {}, 3, "option '--url' is empty"],
  ] as const)("%p %p", async (args, env, code, message) => {
    const result = await runFibrpc([...args], { env });
    expect(result.code).toBe(code);
    expect(result.stdout + result.stderr).toContain(message);
  });
});

describe("booleans: flags and variables take the same spellings and refuse the same garbage", () => {
  const { queue } = serveDuringSuite("arguments-bool");

  test("--json=yes and FIBRPC_CALL_JSON=yes; --json=off and FIBRPC_CALL_JSON=off", async () => {
    for (const [args, env, json] of [
      [["--json=yes"], {}, true],
      [[], { FIBRPC_CALL_JSON: "yes" }, true],
      [["--json=off"], { FIBRPC_CALL_JSON: "1" }, false],
      [[], { FIBRPC_CALL_JSON: "off" }, false],
    ] as const) {
      const result = await runFibrpc(["call", "10", "--queue", queue, ...args], { env });
      // --json adds each answer's trace id, a fresh one per request: compare without it.
      const shown = result.stdout.replace(/,"trace_id":"[0-9a-f]{32}"/, "");
      expect({ args, env, result: shown }).toEqual({ args, env, result: json ? '{"n":10,"ok":true,"value":"55"}\n' : "55\n" });
    }
  });

  test("garbage is bad usage naming the flag, or the variable", async () => {
    expect(await runFibrpc(["call", "10", "--json=maybe"])).toMatchObject({ code: 2, stderr: expect.stringContaining("--json takes no value, or one of 1/0") });
    expect(await runFibrpc(["call", "10"], { env: { FIBRPC_CALL_JSON: "maybe" } })).toMatchObject({
      code: 2,
      stderr: "fibrpc: FIBRPC_CALL_JSON (for --json) must be 1 or 0 (or true/false, yes/no, on/off); got 'maybe'\n",
    });
    expect(await runFibrpc(["call", "10", "--no-json=1"])).toMatchObject({ code: 2, stderr: expect.stringContaining("--no-json takes no value") });
  });
});

describe("URL query parameters are checked, not ignored", () => {
  test.each([
    ["?heartbeat=abc", "URL parameter heartbeat must be a whole number of seconds"],
    ["?hearbeat=10", "unknown URL parameter 'hearbeat'"],
  ])("%p: exit 2 before any connection", async (query, message) => {
    const result = await runFibrpc(["call", "30", "--url", `amqp://guest:guest@127.0.0.1:5672/${query}`]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
  });
});

describe("a queue name longer than 255 bytes", () => {
  const long = "q".repeat(256);
  for (const command of [["serve"], ["call", "30"], ["bench"]]) {
    test(`${command[0]}: exit 2 at once`, async () => {
      const result = await runFibrpc([...command, "--queue", long], { timeoutMs: 5000 });
      expect(result.code).toBe(2);
      expect(result.stderr).toStartWith("fibrpc: --queue: a queue name is at most 255 bytes; got 256");
      expect(result.stderr.length).toBeLessThan(200);
    });
  }

  test("255 bytes of UTF-8 is the limit, not 255 characters", async () => {
    const result = await runFibrpc(["call", "30", "--queue", "é".repeat(128)]);
    expect(result.stderr).toContain("at most 255 bytes; got 256");
  });
});

describe("n", () => {
  const { queue } = serveDuringSuite("arguments-n");

  test("a 10,000-digit n is too large, the message quoting a short piece of it", async () => {
    const result = await runFibrpc(["call", "1".repeat(10_000)]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("': too large, at most 9007199254740991");
    expect(result.stderr.length).toBeLessThan(160);
  });

  test("leading zeros are one n whatever the length", async () => {
    const result = await runFibrpc(["call", "007", `${"0".repeat(40)}7`, "--queue", queue]);
    expect(result).toMatchObject({ code: 0, stdout: "13\n13\n", stderr: "" });
  });
});
