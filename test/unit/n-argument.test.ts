import { describe, expect, test } from "bun:test";
import { parseArgumentN } from "../../src/cli/n-argument.ts";
import { UsageError } from "../../src/errors.ts";

describe("an n as a user writes it", () => {
  test("digits; leading zeros are fine at any length", () => {
    expect(parseArgumentN("30")).toBe(30);
    expect(parseArgumentN("0")).toBe(0);
    expect(parseArgumentN("000")).toBe(0);
    expect(parseArgumentN("007")).toBe(7);
    expect(parseArgumentN(`${"0".repeat(5000)}7`)).toBe(7);
    expect(parseArgumentN("9007199254740991")).toBe(Number.MAX_SAFE_INTEGER);
  });

  test("too large is too large, however many digits", () => {
    for (const text of ["9007199254740992", "99999999999999999999", "1".repeat(10_000), `${"0".repeat(40)}1${"0".repeat(20)}`]) {
      expect(() => parseArgumentN(text)).toThrow(/is too large: at most 9007199254740991$/);
    }
  });

  test.each(["", "-1", "+1", "1.5", "1e3", " 30", "30 ", "0x10", "٣"])("%p is not an n", (text) => {
    expect(() => parseArgumentN(text)).toThrow(UsageError);
    expect(() => parseArgumentN(text)).toThrow(/expected a non-negative decimal integer$/);
  });

  test("a message quotes at most ~60 characters of the input, and says which input", () => {
    let message = "";
    try {
      parseArgumentN("1".repeat(10_000), "line 3");
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toBe(`n '${"1".repeat(59)}… (10000 characters)' (line 3) is too large: at most 9007199254740991`);
  });
});
