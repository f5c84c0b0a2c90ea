import { describe, expect, test } from "bun:test";
import type { ArgsDef } from "citty";
import { checkArgv, lastBooleanOf, valuesOf } from "../../src/cli/argv.ts";
import { MAX_DURATION_MS, parseBoolean, parseDurationSetting, parseIntegerSetting } from "../../src/cli/values.ts";
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
    expect(problem(["--timeout=5", "--help", "-h", "--", "--anything"])).toBeUndefined();
  });

  test("a lone '-' is a positional (call - reads stdin), and a positional's name is no flag", () => {
    expect(checkArgv(["-", "--json"], args)).toEqual({ ok: true, args: ["--json", "--", "-"] });
    expect(problem(["--n", "30"])).toEqual({ kind: "unknown", flag: "--n" });
  });

  test("booleans reach citty as --flag or --no-flag, whichever was given last winning there", () => {
    expect(checkArgv(["--json", "--no-json", "--no-wait-for-server", "--wait-for-server=1"], args)).toEqual({
      ok: true,
      args: ["--json", "--no-json", "--no-wait-for-server", "--wait-for-server"],
    });
  });

  test("only a 'no-' prefix negates: a flag that merely ends in a boolean's name is unknown", () => {
    expect(problem(["--to-json"])).toEqual({ kind: "unknown", flag: "--to-json" });
  });

  test("a boolean given a value it cannot read names the flag and the value", () => {
    expect(problem(["--json=maybe"])).toEqual({ kind: "bad-boolean", flag: "--json", value: "maybe" });
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

  test("every spelling citty accepts: the name, its kebab-case, each alias; enums take a value like strings", () => {
    const spelled = {
      waitForServer: { type: "boolean" },
      replyQueue: { type: "string" },
      timeout: { type: "string", alias: "t" },
      verbose: { type: "boolean", alias: ["v", "loud"] },
      format: { type: "enum", options: ["text", "json"] },
    } satisfies ArgsDef;
    expect(checkArgv(["--wait-for-server", "--reply-queue", "r", "-t", "5", "-v", "--loud", "--format", "json"], spelled)).toEqual({
      ok: true,
      args: ["--waitForServer", "--replyQueue=r", "--timeout=5", "--verbose", "--verbose", "--format=json"],
    });
    expect(checkArgv(["--waitForServer", "--no-wait-for-server", "--replyQueue=s"], spelled)).toEqual({
      ok: true,
      args: ["--waitForServer", "--no-waitForServer", "--replyQueue=s"],
    });
    expect(checkArgv(["--format"], spelled)).toEqual({ ok: false, problem: { kind: "missing-value", flag: "--format" } });
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

  test("valuesOf gets the named flag's values only", () => {
    const more = { ...args, timeout: { type: "string" }, json: { type: "boolean" } } satisfies ArgsDef;
    expect(valuesOf(["--timeout", "5", "--url", "amqp://a", "--json", "30"], more, "url")).toEqual(["amqp://a"]);
  });
});

describe("lastBooleanOf: a boolean as given before citty parses (health reads --json this way to fail in the right format)", () => {
  const args = { queue: { type: "string" }, json: { type: "boolean" }, probe: { type: "boolean" } } satisfies ArgsDef;

  test("undefined when not given, whatever else is", () => {
    expect(lastBooleanOf([], args, "json")).toBeUndefined();
    expect(lastBooleanOf(["--queue", "q", "--no-probe"], args, "json")).toBeUndefined();
  });

  test("the last of --flag, --no-flag and --flag=value wins; other booleans do not count", () => {
    expect(lastBooleanOf(["--json"], args, "json")).toBe(true);
    expect(lastBooleanOf(["--json", "--queue", "q", "--no-json"], args, "json")).toBe(false);
    expect(lastBooleanOf(["--no-json", "--json=yes", "--no-probe"], args, "json")).toBe(true);
  });
});

describe("flag values", () => {
  const from = "--prefetch";
  test("integers within bounds", () => {
    expect(parseIntegerSetting({ text: "64", from }, { min: 1, max: 100 })).toBe(64);
    expect(() => parseIntegerSetting({ text: "0", from }, { min: 1, max: 100 })).toThrow(UsageError);
    expect(() => parseIntegerSetting({ text: "ten", from }, { min: 1, max: 100 })).toThrow(UsageError);
  });

  test("integers: both bounds are allowed; blanks around the digits (a variable from a file) are ignored", () => {
    expect(parseIntegerSetting({ text: "1", from }, { min: 1, max: 100 })).toBe(1);
    expect(parseIntegerSetting({ text: "100", from }, { min: 1, max: 100 })).toBe(100);
    expect(parseIntegerSetting({ text: " 64\n", from }, { min: 1, max: 100 })).toBe(64);
  });

  test("integers: only plain digits; the error names the setting, the range and what was given", () => {
    for (const text of ["+5", "1.5", "-1", "1e2", "0x10", "64abc", "x64"]) {
      expect(() => parseIntegerSetting({ text, from }, { min: 1, max: 100 })).toThrow(`--prefetch needs a whole number from 1 to 100; got '${text}'`);
    }
  });

  test("integers out of range: the error says the number as read, without leading zeros", () => {
    const outOfRange = (text: string) => () => parseIntegerSetting({ text, from }, { min: 1, max: 100 });
    expect(outOfRange("101")).toThrow("--prefetch must be from 1 to 100; got 101");
    expect(outOfRange("000150")).toThrow("--prefetch must be from 1 to 100; got 150");
    expect(outOfRange("1005")).toThrow("--prefetch must be from 1 to 100; got 1005");
    expect(outOfRange("000")).toThrow("--prefetch must be from 1 to 100; got 0");
  });

  test("booleans: the same spellings with blanks around them", () => {
    expect(parseBoolean(" yes\n")).toBe(true);
    expect(parseBoolean("\tOff ")).toBe(false);
    expect(parseBoolean("")).toBeUndefined();
  });

  test("durations below a caller's own maximum, said in the error as a duration", () => {
    expect(parseDurationSetting({ text: "1.5s", from: "--x" }, { max: 1500 })).toBe(1500);
    expect(() => parseDurationSetting({ text: "2s", from: "--x" }, { max: 1500 })).toThrow("--x must be at most 1.5s; got '2s'");
    expect(() => parseDurationSetting({ text: "3h", from: "--x" }, { max: 7_200_000 })).toThrow("--x must be at most 2h; got '3h'");
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
