import { describe, expect, test } from "bun:test";
import { jsonLine, plainLine } from "../../src/call/format.ts";
import { parseCallN } from "../../src/call/parse-n.ts";
import { NoServerError, UsageError } from "../../src/errors.ts";

describe("what call prints for one n", () => {
  test("plain: the digits and a newline", () => {
    expect(plainLine({ n: 10, ok: true, value: "55" })).toBe("55\n");
  });

  test("--json: one object per line, in the order line, n, ok, value", () => {
    expect(jsonLine({ n: 10, ok: true, value: "55" })).toBe('{"n":10,"ok":true,"value":"55"}\n');
    expect(jsonLine({ n: 10, ok: true, value: "55", line: 3 })).toBe('{"line":3,"n":10,"ok":true,"value":"55"}\n');
  });

  test("--json: a failure carries the error's kind, code and message; a line that was no n has no n", () => {
    const error = new NoServerError("no server: queue 'q' has no consumer");
    expect(JSON.parse(jsonLine({ n: 7, ok: false, error }))).toEqual({
      n: 7,
      ok: false,
      error: { kind: error.kind, code: error.code, message: "no server: queue 'q' has no consumer" },
    });
    const unreadable = jsonLine({ ok: false, error: new UsageError("invalid n 'x'"), line: 2 });
    expect(unreadable.startsWith('{"line":2,"ok":false,"error":{')).toBe(true);
  });

  test("--json: a traced answer ends with its trace_id, as the README shows; an untraced one has none", () => {
    const traceId = "0af7651916cd43dd8448eb211c80319c";
    expect(jsonLine({ n: 30, ok: true, value: "832040", traceId })).toBe(`{"n":30,"ok":true,"value":"832040","trace_id":"${traceId}"}\n`);
    expect(JSON.parse(jsonLine({ n: 7, ok: false, error: new NoServerError("no server"), traceId }))).toMatchObject({ n: 7, ok: false, trace_id: traceId });
    expect(jsonLine({ n: 30, ok: true, value: "832040" })).not.toContain("trace_id");
  });
});

describe("parseCallN: an n as the user typed it", () => {
  test("a decimal integer is taken; anything else is a usage error saying what was wrong", () => {
    expect(parseCallN("30")).toBe(30);
    expect(() => parseCallN("abc")).toThrow(new UsageError("invalid n 'abc': expected a non-negative decimal integer"));
    expect(() => parseCallN("99999999999999999999")).toThrow(new UsageError("invalid n '99999999999999999999': too large, at most 9007199254740991"));
    expect(() => parseCallN("")).toThrow(UsageError);
  });
});
