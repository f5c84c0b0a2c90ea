import { describe, expect, test } from "bun:test";
import type { ArgsDef } from "citty";
import { findFlagProblem } from "../../src/cli/strict-args.ts";
import { parseDurationFlag, parseIntegerFlag } from "../../src/cli/flags.ts";
import {
  BrokerRefusedError,
  BrokerUnreachableError,
  InterruptedError,
  NoServerError,
  ServerReplyError,
  TimeoutError,
  UsageError,
} from "../../src/errors.ts";
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

describe("findFlagProblem", () => {
  const args = {
    n: { type: "positional" },
    timeout: { type: "string" },
    json: { type: "boolean" },
    "wait-for-server": { type: "boolean" },
  } satisfies ArgsDef;

  test("accepts known flags, their negations, values and positionals", () => {
    expect(findFlagProblem(["30", "--timeout", "5", "--json", "--no-json", "--wait-for-server"], args)).toBeUndefined();
    expect(findFlagProblem(["--timeout=5", "--help", "--", "--anything"], args)).toBeUndefined();
  });

  test("names the first unknown flag", () => {
    expect(findFlagProblem(["30", "--timout", "5"], args)).toEqual({ kind: "unknown", flag: "--timout" });
    expect(findFlagProblem(["--bogus=1"], args)).toEqual({ kind: "unknown", flag: "--bogus" });
    expect(findFlagProblem(["-5"], args)).toEqual({ kind: "unknown", flag: "-5" });
  });

  test("a value flag given last, or before --, has no value", () => {
    expect(findFlagProblem(["30", "--timeout"], args)).toEqual({ kind: "missing-value", flag: "--timeout" });
    expect(findFlagProblem(["--timeout", "--", "30"], args)).toEqual({ kind: "missing-value", flag: "--timeout" });
  });

  test("a value that looks like a flag is taken as the value", () => {
    expect(findFlagProblem(["--timeout", "-1"], args)).toBeUndefined();
  });
});

describe("flag values", () => {
  test("integers within bounds", () => {
    expect(parseIntegerFlag("prefetch", "64", { min: 1, max: 100 })).toBe(64);
    expect(() => parseIntegerFlag("prefetch", "0", { min: 1, max: 100 })).toThrow(UsageError);
    expect(() => parseIntegerFlag("prefetch", "ten", { min: 1, max: 100 })).toThrow(UsageError);
  });

  test("durations must be positive", () => {
    expect(parseDurationFlag("timeout", "500ms")).toBe(500);
    expect(() => parseDurationFlag("timeout", "0")).toThrow(UsageError);
    expect(() => parseDurationFlag("timeout", "soon")).toThrow(UsageError);
  });
});
