import { describe, expect, test } from "bun:test";
import { parseCallN } from "../../src/call/parse-n.ts";
import { UsageError } from "../../src/errors.ts";

describe("an n as a user writes it", () => {
  test("digits; leading zeros are fine at any length", () => {
    expect(parseCallN("30")).toBe(30);
    expect(parseCallN("0")).toBe(0);
    expect(parseCallN("000")).toBe(0);
    expect(parseCallN("007")).toBe(7);
    expect(parseCallN(`${"0".repeat(5000)}7`)).toBe(7);
    expect(parseCallN("9007199254740991")).toBe(Number.MAX_SAFE_INTEGER);
  });

  test("too large is too large, however many digits", () => {
    for (const text of ["9007199254740992", "99999999999999999999", "1".repeat(10_000), `${"0".repeat(40)}1${"0".repeat(20)}`]) {
      expect(() => parseCallN(text)).toThrow(/: too large, at most 9007199254740991$/);
    }
  });

  test.each(["", "-1", "+1", "1.5", "1e3", " 30", "30 ", "0x10", "٣"])("%p is not an n", (text) => {
    expect(() => parseCallN(text)).toThrow(UsageError);
    expect(() => parseCallN(text)).toThrow(/expected a non-negative decimal integer$/);
  });

  test("a message quotes at most ~60 characters of the input", () => {
    let message = "";
    try {
      parseCallN("1".repeat(10_000));
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toBe(`invalid n '${"1".repeat(59)}… (10000 characters)': too large, at most 9007199254740991`);
  });
});
