import { describe, expect, test } from "bun:test";
import { LatencyHistogram } from "../../src/bench/histogram.ts";
import { formatNSpec, parseNSpec, pickN } from "../../src/bench/n-spec.ts";
import { formatProgress, redrawLine } from "../../src/bench/progress.ts";
import { formatErrors, formatSummary, summarize } from "../../src/bench/summary.ts";
import { BenchTally, ExpectedAnswers } from "../../src/bench/tally.ts";
import { UsageError } from "../../src/errors.ts";

describe("LatencyHistogram", () => {
  test("percentiles are within 1% of the exact ones", () => {
    const histogram = new LatencyHistogram();
    for (let ms = 1; ms <= 1000; ms++) histogram.record(ms);
    expect(histogram.count).toBe(1000);
    for (const [fraction, exact] of [
      [0.5, 500],
      [0.9, 900],
      [0.99, 990],
    ] as const) {
      const value = histogram.percentileMs(fraction);
      expect(value).toBeGreaterThanOrEqual(exact * 0.99);
      expect(value).toBeLessThanOrEqual(exact * 1.01);
    }
    expect(histogram.percentileMs(1)).toBe(1000);
    expect(histogram.minMs).toBe(1);
    expect(histogram.maxMs).toBe(1000);
    expect(histogram.meanMs).toBeCloseTo(500.5, 6);
  });

  test("never reports outside the recorded min and max", () => {
    const histogram = new LatencyHistogram();
    histogram.record(0.3);
    expect(histogram.percentileMs(0.5)).toBe(0.3);
    expect(histogram.percentileMs(0)).toBe(0.3);
  });

  test("sub-microsecond and empty cases", () => {
    const empty = new LatencyHistogram();
    expect([empty.percentileMs(0.5), empty.minMs, empty.maxMs, empty.meanMs]).toEqual([0, 0, 0, 0]);
    const tiny = new LatencyHistogram();
    tiny.record(0);
    expect(tiny.percentileMs(0.99)).toBe(0);
  });
});

describe("--n spec", () => {
  test("a fixed n or an inclusive range", () => {
    expect(parseNSpec("30")).toEqual({ min: 30, max: 30 });
    expect(parseNSpec(" 20..40 ")).toEqual({ min: 20, max: 40 });
    expect(formatNSpec({ min: 20, max: 40 })).toBe("20..40");
    expect(formatNSpec({ min: 7, max: 7 })).toBe("7");
  });

  test("bad specs are usage errors", () => {
    for (const bad of ["", "-1", "x", "40..20", "1..", "..3", "1.5", "99999999999999999999"]) {
      expect(() => parseNSpec(bad)).toThrow(UsageError);
    }
  });

  test("picks cover both bounds and nothing outside", () => {
    const spec = { min: 20, max: 40 };
    expect(pickN(spec, () => 0)).toBe(20);
    expect(pickN(spec, () => 0.999999)).toBe(40);
    expect(pickN({ min: 5, max: 5 }, () => 0.7)).toBe(5);
  });
});

describe("tally and verification", () => {
  test("the expected answer is the exact F(n), as a decimal string", () => {
    const expected = new ExpectedAnswers();
    expect(expected.for(30)).toBe("832040");
    expect(expected.for(93)).toBe("12200160415121876738");
    expect(expected.matches(30, Buffer.from("832040"))).toBe(true);
    expect(expected.matches(30, Buffer.from("832041"))).toBe(false);
    expect(expected.matches(30, Buffer.from("8320400"))).toBe(false);
  });

  test("counts ok and failures by code; latencies only of answers", () => {
    const tally = new BenchTally();
    tally.recordOk(2);
    tally.recordFailure("TIMEOUT");
    tally.recordFailure("OUT_OF_RANGE", 4);
    tally.recordFailure("TIMEOUT");
    expect([tally.ok, tally.failed, tally.done]).toEqual([1, 3, 4]);
    expect(Object.fromEntries(tally.errors)).toEqual({ TIMEOUT: 2, OUT_OF_RANGE: 1 });
    expect(tally.latency.count).toBe(2);
  });
});

describe("summary", () => {
  const tally = new BenchTally();
  for (let index = 0; index < 99; index++) tally.recordOk(1);
  tally.recordFailure("WRONG_ANSWER", 10);
  const summary = summarize({
    queue: "q",
    n: "30",
    concurrency: 64,
    connections: 1,
    ok: tally.ok,
    errors: tally.errors,
    elapsedMs: 2000,
    latency: tally.latency,
  });

  test("calls/s counts every finished call over the elapsed time", () => {
    expect(summary).toMatchObject({ calls: 100, ok: 99, failed: 1, errors: { WRONG_ANSWER: 1 }, callsPerSecond: 50, elapsedSeconds: 2 });
    expect(summary.latencyMs?.p50).toBeCloseTo(1, 1); // bucketed: within 1%
    expect(summary.latencyMs?.max).toBe(10);
  });

  test("the text report names the run, rate, percentiles and errors", () => {
    const text = formatSummary(summary);
    expect(text).toContain("100 calls in 2s on queue 'q' (n=30, 64 in flight, 1 connection)");
    expect(text).toContain("calls/s  50");
    expect(text).toMatch(/p50 1\.0\d?ms/);
    expect(text).toContain("errors   WRONG_ANSWER 1");
    expect(text.endsWith("\n")).toBe(true);
  });

  test("when no call was answered there is no latency: no percentile is printed, JSON says null", () => {
    const timedOut = new BenchTally();
    timedOut.recordFailure("TIMEOUT");
    const nothing = summarize({
      queue: "q",
      n: "30",
      concurrency: 1,
      connections: 1,
      ok: 0,
      errors: timedOut.errors,
      elapsedMs: 1000,
      latency: timedOut.latency,
    });
    expect(nothing.latencyMs).toBeNull();
    expect(formatSummary(nothing)).toContain("latency  none measured: no call was answered");
    expect(formatSummary(nothing)).not.toMatch(/p50|0\.00ms/);
  });

  test("formatting helpers", () => {
    expect(formatErrors({})).toBe("none");
    expect(formatErrors({ A: 1, B: 2 })).toBe("A 1, B 2");
  });
});

describe("progress line", () => {
  test("shows the count against a request goal, or time against a duration goal", () => {
    expect(formatProgress({ done: 812, failed: 0, elapsedMs: 700, recentRate: 11402.4, goal: { requests: 2000 } })).toBe(
      "  812/2000 calls  11402/s  0 errors  700ms",
    );
    expect(formatProgress({ done: 5, failed: 1, elapsedMs: 1500, recentRate: 3, goal: { durationMs: 10_000 } })).toBe("  5 calls  3/s  1 error  1.5s/10s");
  });

  test("redraws in place and erases the rest of the line", () => {
    expect(redrawLine("x")).toBe("\rx\u001b[K");
  });
});

describe("LatencyHistogram: edges", () => {
  test("the largest value is kept whatever the order; so is the smallest", () => {
    const histogram = new LatencyHistogram();
    for (const ms of [5, 1, 3]) histogram.record(ms);
    expect([histogram.minMs, histogram.maxMs]).toEqual([1, 5]);
  });

  test("a percentile is the first bucket reaching its rank, not the one after", () => {
    const histogram = new LatencyHistogram();
    histogram.record(1);
    histogram.record(100);
    expect(histogram.percentileMs(0.5)).toBeCloseTo(1, 1);
    expect(histogram.percentileMs(0.51)).toBe(100);
  });

  test("sub-microsecond latencies are counted (in the first bucket), not lost", () => {
    const histogram = new LatencyHistogram();
    histogram.record(0.0005);
    histogram.record(5);
    expect(histogram.percentileMs(0.5)).toBe(0.001);
  });
});

describe("summary: edges", () => {
  const base = { queue: "q", n: "30", concurrency: 1, connections: 1, latency: new LatencyHistogram() };

  test("errors come out sorted by code, whatever order they happened in", () => {
    const summary = summarize({
      ...base,
      ok: 0,
      errors: new Map([
        ["TIMEOUT", 1],
        ["INTERNAL", 2],
        ["OUT_OF_RANGE", 3],
      ]),
      elapsedMs: 1000,
    });
    expect(Object.keys(summary.errors)).toEqual(["INTERNAL", "OUT_OF_RANGE", "TIMEOUT"]);
  });

  test("a run that took no measurable time reports 0 calls/s, not Infinity", () => {
    expect(summarize({ ...base, ok: 3, errors: new Map(), elapsedMs: 0 }).callsPerSecond).toBe(0);
  });

  test("the text report is exactly four lines", () => {
    const text = formatSummary(summarize({ ...base, ok: 1, errors: new Map(), elapsedMs: 1000 }));
    const lines = text.split("\n");
    expect(lines).toHaveLength(5);
    expect(lines.slice(1).map((line) => line.slice(0, 10))).toEqual(["  calls/s ", "  latency ", "  errors  ", ""]);
  });
});

describe("--n spec: messages", () => {
  test("say what was wrong with the value given", () => {
    expect(() => parseNSpec("20..x")).toThrow("--n needs a whole number such as 30, or a range such as 20..40; got '20..x'");
    expect(() => parseNSpec("x..20")).toThrow("got 'x..20'");
    expect(() => parseNSpec("40..20")).toThrow("--n: the range 40..20 is empty: the first bound is above the second");
  });
});
