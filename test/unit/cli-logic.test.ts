import { describe, expect, test } from "bun:test";
import type { ArgsDef } from "citty";
import { checkArgv, valuesOf } from "../../src/cli/argv.ts";
import { MAX_DURATION_MS, parseDurationSetting, parseIntegerSetting } from "../../src/cli/values.ts";
import { BrokerRefusedError, BrokerUnreachableError, InterruptedError, NoServerError, ServerReplyError, TimeoutError, UsageError } from "../../src/errors.ts";
import { EXIT, exitCodeFor } from "../../src/exit-codes.ts";

describe("exitCodeFor", () => {
  test("maps each error kind to its documented code", () => {
    expect(exitCodeFor(new ServerReplyError("OUT_OF_RANGE", "x"))).toBe(1);
    expect(exitCodeFor(new UsageError("x"))).toBe(2);
    expect(exitCodeFor(new NoServerError("x"))).toBe(3);
    expect(exitCodeFor(new TimeoutError("x"))).toBe(4);
    expect(exitCodeFor(new BrokerUnreachableError("x"))).toBe(5);
    expect(exitCodeFor(new BrokerRefusedError("x"))).toBe(6);
    expect(exitCodeFor(new InterruptedError("SIGINT"))).toBe(130);
    expect(exitCodeFor(new InterruptedError("SIGTERM"))).toBe(143);
  });

  test("anything unexpected is an internal error, not a documented failure", () => {
    expect(exitCodeFor(new Error("bug"))).toBe(EXIT.internal);
  });
});

describe("checkArgv", () => {
  const args = {
    n: { type: "positional" },
    timeout: { type: "string" },
    url: { type: "string" },
    json: { type: "boolean" },
    "wait-for-server": { type: "boolean" },
  } satisfies ArgsDef;
  const problem = (argv: string[]) => {
    const checked = checkArgv(argv, args);
    return checked.ok ? undefined : checked.problem;
  };

  test("accepts known flags, their negations, values and positionals", () => {
    expect(problem(["30", "--timeout", "5", "--json", "--no-json", "--wait-for-server"])).toBeUndefined();
    expect(problem(["--timeout=5", "--help", "--", "--anything"])).toBeUndefined();
  });

  test("gives citty the forms it reads right, positionals last", () => {
    expect(checkArgv(["30", "--timeout", "5", "--json=no", "31"], args)).toEqual({ ok: true, args: ["--timeout=5", "--no-json", "--", "30", "31"] });
  });

  test("names the first unknown flag", () => {
    expect(problem(["30", "--timout", "5"])).toEqual({ kind: "unknown", flag: "--timout" });
    expect(problem(["--bogus=1"])).toEqual({ kind: "unknown", flag: "--bogus" });
    expect(problem(["-5"])).toEqual({ kind: "unknown", flag: "-5" });
  });

  test("a value flag given last, or before --, has no value", () => {
    expect(problem(["30", "--timeout"])).toEqual({ kind: "missing-value", flag: "--timeout" });
    expect(problem(["--timeout", "--", "30"])).toEqual({ kind: "missing-value", flag: "--timeout" });
  });

  test("a value that looks like a flag is taken as the value", () => {
    expect(problem(["--timeout", "-1"])).toBeUndefined();
  });

  test("an explicitly empty value is a problem, not 'not given'", () => {
    expect(problem(["--url", ""])).toEqual({ kind: "empty-value", flag: "--url" });
    expect(problem(["--url="])).toEqual({ kind: "empty-value", flag: "--url" });
    expect(problem(["--timeout", "  "])).toEqual({ kind: "empty-value", flag: "--timeout" });
  });

  test("a negation takes no value", () => {
    expect(problem(["--no-json=1"])).toEqual({ kind: "negation-with-value", flag: "--no-json" });
  });

  test("a command without positionals refuses a stray argument", () => {
    const serveLike = { queue: { type: "string" } } satisfies ArgsDef;
    expect(checkArgv(["adv_myqueue"], serveLike)).toEqual({ ok: false, problem: { kind: "unexpected-argument", value: "adv_myqueue" } });
    expect(checkArgv(["--queue", "q", "--", "x"], serveLike)).toEqual({ ok: false, problem: { kind: "unexpected-argument", value: "x" } });
    expect(checkArgv(["--queue", "q"], serveLike)).toEqual({ ok: true, args: ["--queue=q"] });
  });
});

describe("repeated flags", () => {
  const args = { url: { type: "string" }, n: { type: "positional" } } satisfies ArgsDef;

  test("citty keeps only the last value of a repeated string flag", async () => {
    const { parseArgs } = await import("citty");
    expect(parseArgs<typeof args>(["--url", "amqp://a", "--url", "amqp://b", "30"], args).url).toBe("amqp://b");
  });

  test("valuesOf gets every value, in order, whatever the spelling", () => {
    expect(valuesOf(["--url", "amqp://a", "30", "--url=amqp://b", "--", "--url", "x"], args, "url")).toEqual(["amqp://a", "amqp://b"]);
  });
});

describe("flag values", () => {
  const from = "--prefetch";
  test("integers within bounds", () => {
    expect(parseIntegerSetting({ text: "64", from }, { min: 1, max: 100 })).toBe(64);
    expect(() => parseIntegerSetting({ text: "0", from }, { min: 1, max: 100 })).toThrow(UsageError);
    expect(() => parseIntegerSetting({ text: "ten", from }, { min: 1, max: 100 })).toThrow(UsageError);
  });

  test("durations have a maximum no timer overflows: 24h, said in the error", () => {
    expect(MAX_DURATION_MS).toBeLessThan(2 ** 31 - 1);
    expect(parseDurationSetting({ text: "24h", from: "--timeout" })).toBe(MAX_DURATION_MS);
    for (const text of ["999999999", "24.001h", "1441m", "99999999999999999999999"]) {
      expect(() => parseDurationSetting({ text, from: "--timeout" })).toThrow(`--timeout must be at most 24h; got '${text}'`);
    }
  });

  test("durations must be positive", () => {
    expect(parseDurationSetting({ text: "500ms", from: "--timeout" })).toBe(500);
    expect(() => parseDurationSetting({ text: "0", from: "--timeout" })).toThrow(UsageError);
    expect(() => parseDurationSetting({ text: "soon", from: "--timeout" })).toThrow(UsageError);
  });
});
