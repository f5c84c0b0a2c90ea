import { describe, expect, test } from "bun:test";
import { fibonacci } from "../../src/fib.ts";

describe("fibonacci", () => {
  test("starts 0, 1, 1, 2, 3, 5, 8", () => {
    expect([0, 1, 2, 3, 4, 5, 6].map(fibonacci)).toEqual([0n, 1n, 1n, 2n, 3n, 5n, 8n]);
  });

  test("agrees with the plain recurrence up to 300", () => {
    let [a, b] = [0n, 1n];
    for (let n = 0; n <= 300; n++) {
      expect(fibonacci(n)).toBe(a);
      [a, b] = [b, a + b];
    }
  });

  test("is exact where 64-bit integers overflow (92, 93)", () => {
    expect(fibonacci(92)).toBe(7540113804746346429n);
    expect(fibonacci(93)).toBe(12200160415121876738n);
    expect(fibonacci(30)).toBe(832040n);
  });

  test("F(1000) has 209 digits", () => {
    const text = fibonacci(1000).toString();
    expect(text).toHaveLength(209);
    expect(text.startsWith("43466557686937456435688527675040625802564660517371780402481729")).toBe(true);
    expect(text.endsWith("228875")).toBe(true);
  });

  test("F(100000) has 20899 digits and satisfies F(n+1)^2 - F(n)F(n+2) = (-1)^n", () => {
    const n = 100_000;
    expect(fibonacci(n).toString()).toHaveLength(20_899);
    const [f0, f1, f2] = [fibonacci(n), fibonacci(n + 1), fibonacci(n + 2)];
    expect(f1 * f1 - f0 * f2).toBe(1n); // Cassini, n even
  });

  test("refuses negative and fractional n", () => {
    expect(() => fibonacci(-1)).toThrow(RangeError);
    expect(() => fibonacci(1.5)).toThrow(RangeError);
  });
});
