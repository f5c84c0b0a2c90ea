import { describe, expect, test } from "bun:test";
import { alerts, describeBreach, formatRange, parseRange, type Range } from "../../src/health/range.ts";

function range(text: string): Range {
  const parsed = parseRange(text);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.range;
}

/** The table of the Monitoring Plugins development guidelines, row by row. */
describe("parseRange and alerts: the guideline's examples", () => {
  test("10: alert if < 0 or > 10", () => {
    expect(range("10")).toEqual({ start: 0, end: 10, alertInside: false });
    expect([-1, 0, 10, 11].map((value) => alerts(range("10"), value))).toEqual([true, false, false, true]);
  });

  test("10: (open end) alert if < 10", () => {
    expect(range("10:")).toEqual({ start: 10, end: Infinity, alertInside: false });
    expect([9, 10, 1e9].map((value) => alerts(range("10:"), value))).toEqual([true, false, false]);
  });

  test("~:10 alert if > 10", () => {
    expect(range("~:10")).toEqual({ start: -Infinity, end: 10, alertInside: false });
    expect([-1e9, 10, 11].map((value) => alerts(range("~:10"), value))).toEqual([false, false, true]);
  });

  test("10:20 alert if < 10 or > 20", () => {
    expect([9, 10, 20, 21].map((value) => alerts(range("10:20"), value))).toEqual([true, false, false, true]);
  });

  test("@10:20 alert if 10 <= value <= 20", () => {
    expect(range("@10:20").alertInside).toBe(true);
    expect([9, 10, 20, 21].map((value) => alerts(range("@10:20"), value))).toEqual([false, true, true, false]);
  });

  test("decimals and an empty start (`:5` is `0:5`)", () => {
    expect(range("0.5")).toEqual({ start: 0, end: 0.5, alertInside: false });
    expect(range(":5")).toEqual({ start: 0, end: 5, alertInside: false });
  });
});

describe("parseRange rejects what is not a range", () => {
  for (const text of ["", "@", "abc", "10:20:30", "1e3", "20:10", "~", "-"]) {
    test(JSON.stringify(text), () => {
      expect(parseRange(text).ok).toBe(false);
    });
  }
});

test("a custom endpoint parser (units) is used for both ends", () => {
  const ms = (text: string) => (/^\d+ms$/.test(text) ? Number(text.slice(0, -2)) / 1000 : undefined);
  expect(parseRange("100ms:2000ms", ms)).toEqual({ ok: true, range: { start: 0.1, end: 2, alertInside: false } });
  expect(parseRange("2", ms).ok).toBe(false);
});

describe("formatRange gives the canonical perfdata text", () => {
  for (const text of ["10", "10:", "~:10", "10:20", "@10:20", "0.5", "@~:3"]) {
    test(text, () => expect(formatRange(range(text))).toBe(text));
  }
  test("0:10 is written 10", () => expect(formatRange(range("0:10"))).toBe("10"));
});

test("describeBreach says which side was crossed", () => {
  expect(describeBreach(range("100"), 150)).toBe("above 100");
  expect(describeBreach(range("2:"), 1)).toBe("below 2");
  expect(describeBreach(range("@10:20"), 15)).toBe("within 10:20");
});

describe("parseRange: number forms and blanks", () => {
  test("decimals with or without digits around the point, signs, and blanks around the range", () => {
    expect(range(".25")).toEqual({ start: 0, end: 0.25, alertInside: false });
    expect(range("1.")).toEqual({ start: 0, end: 1, alertInside: false });
    expect(range("-2.75:.5")).toEqual({ start: -2.75, end: 0.5, alertInside: false });
    expect(range(" 10:20 ")).toEqual({ start: 10, end: 20, alertInside: false });
  });

  test("not a range, or a start above its end: the message says which", () => {
    expect(parseRange("abc")).toEqual({ ok: false, message: "'abc' is not a threshold range (examples: 10, 10:, ~:10, 10:20, @10:20)" });
    for (const text of ["5:.x", "x:5", "~x:5"]) expect(parseRange(text)).toMatchObject({ ok: false });
    expect(parseRange("20:10")).toEqual({ ok: false, message: "'20:10': the start of a range must not exceed its end" });
    expect(range("10:10")).toEqual({ start: 10, end: 10, alertInside: false });
  });

  test("values exactly on either end are inside; the breach names the side crossed", () => {
    expect([alerts(range("10:20"), 10), alerts(range("10:20"), 20), alerts(range("@10:20"), 20)]).toEqual([false, false, true]);
    expect(describeBreach(range("10:20"), 21)).toBe("above 20");
    expect(describeBreach(range("10:20"), 9)).toBe("below 10");
  });
});
