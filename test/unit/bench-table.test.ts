import { describe, expect, test } from "bun:test";
import { formatTable, mb, ms, rate, ratio, verdict } from "../../bench/lib/table.ts";
import { median } from "../../bench/lib/measure.ts";

describe("benchmark report helpers", () => {
  test("a table pads the first column left and right-aligns the figures", () => {
    expect(
      formatTable(
        ["server", "calls/s"],
        [
          ["fibrpc", "21072/s"],
          ["Go tutorial", "3051/s"],
        ],
      ),
    ).toBe(["server       calls/s", "-----------  -------", "fibrpc       21072/s", "Go tutorial   3051/s"].join("\n"));
  });

  test("figures and ratios, n/a when a figure is missing", () => {
    expect(ratio(21072, 12519)).toBe("1.68×");
    expect(ratio(1, 0)).toBe("n/a");
    expect(ratio(Number.NaN, 1)).toBe("n/a");
    expect([rate(12518.6), ms(0.391), ms(26.21), ms(107.4), mb(45.23)]).toEqual(["12519/s", "0.391ms", "26.2ms", "107ms", "45.2 MB"]);
  });

  test("verdicts against a floor or a ceiling", () => {
    expect(verdict(1.68, { atLeast: 1 })).toBe("ok");
    expect(verdict(2.09, { atMost: 1.5 })).toBe("MISS");
    expect(verdict(Number.NaN, { atMost: 1 })).toBe("n/a");
  });

  test("median of odd and even counts", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });
});
