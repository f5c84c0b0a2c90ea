import { describe, expect, test } from "bun:test";
import { BucketHistogram } from "../../src/ops/bucket-histogram.ts";
import { CONTENT_TYPES, formatNumber, negotiateFormat, render, type MetricFamily } from "../../src/ops/exposition.ts";
import { readiness, routeRequest } from "../../src/ops/routes.ts";
import { WorkerMetrics } from "../../src/ops/worker-metrics.ts";
import type { WorkerStatus } from "../../src/rpc/worker-events.ts";

const CONSUMING: WorkerStatus = { state: "consuming", connected: true, inFlight: 2, prefetch: 64 };

/** The samples of a rendering as `name{labels} value` lines, comments left out. */
function samples(text: string): string[] {
  return text.split("\n").filter((line) => line !== "" && !line.startsWith("#"));
}

describe("exposition formats", () => {
  const families: MetricFamily[] = [
    { name: "x_requests", type: "counter", help: "Requests.", samples: [{ labels: { queue: 'a"b\\c\nd', outcome: "ok" }, value: 3 }] },
    { name: "x_up", type: "gauge", help: 'A "quoted" help\\ with a\nnewline.', samples: [{ value: Number.NaN }] },
    {
      name: "x_wait_seconds",
      type: "histogram",
      unit: "seconds",
      help: "Wait.",
      histograms: [{ labels: { queue: "q" }, bounds: [0.5, 1], counts: [1, 2], sum: 3.25, count: 4 }],
    },
  ];

  test("Prometheus text 0.0.4: counters named with _total in TYPE too, escapes, histogram series", () => {
    expect(render(families, "prometheus")).toBe(
      [
        "# HELP x_requests_total Requests.",
        "# TYPE x_requests_total counter",
        'x_requests_total{queue="a\\"b\\\\c\\nd",outcome="ok"} 3',
        '# HELP x_up A "quoted" help\\\\ with a\\nnewline.',
        "# TYPE x_up gauge",
        "x_up NaN",
        "# HELP x_wait_seconds Wait.",
        "# TYPE x_wait_seconds histogram",
        'x_wait_seconds_bucket{queue="q",le="0.5"} 1',
        'x_wait_seconds_bucket{queue="q",le="1"} 2',
        'x_wait_seconds_bucket{queue="q",le="+Inf"} 4',
        'x_wait_seconds_sum{queue="q"} 3.25',
        'x_wait_seconds_count{queue="q"} 4',
        "",
      ].join("\n"),
    );
  });

  test("OpenMetrics 1.0: counter families without _total, UNIT, quotes escaped in HELP, # EOF last", () => {
    const text = render(families, "openmetrics");
    expect(text).toContain("# TYPE x_requests counter\nx_requests_total{");
    expect(text).toContain('# HELP x_up A \\"quoted\\" help\\\\ with a\\nnewline.');
    expect(text).toContain("# TYPE x_wait_seconds histogram\n# UNIT x_wait_seconds seconds\n");
    expect(text.endsWith("\n# EOF\n")).toBe(true);
    expect(samples(text)).toEqual(samples(render(families, "prometheus")));
  });

  test("OpenMetrics only when asked for at least as much as text", () => {
    const prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    expect(negotiateFormat(prometheus)).toBe("openmetrics");
    expect(negotiateFormat("application/openmetrics-text")).toBe("openmetrics");
    expect(negotiateFormat(null)).toBe("prometheus");
    expect(negotiateFormat("*/*")).toBe("prometheus");
    expect(negotiateFormat("text/plain;version=0.0.4")).toBe("prometheus");
    expect(negotiateFormat("text/plain, application/openmetrics-text;q=0.5")).toBe("prometheus");
    expect(negotiateFormat("application/openmetrics-text;q=0")).toBe("prometheus");
  });
});

describe("histogram", () => {
  test("a value on a bound counts in that bucket; cumulative counts; above every bound only in +Inf", () => {
    const histogram = new BucketHistogram([0.001, 0.01, 1]);
    for (const value of [0, 0.001, 0.0011, 0.5, 1, 7]) histogram.observe(value);
    expect(histogram.sample({ queue: "q" })).toEqual({ labels: { queue: "q" }, bounds: [0.001, 0.01, 1], counts: [2, 3, 5], sum: 8.5021, count: 6 });
  });

  test("bounds must increase", () => {
    expect(() => new BucketHistogram([1, 1])).toThrow("increase");
  });
});

describe("worker metrics", () => {
  test("each outcome counted under its labels; every known series there from the start", () => {
    const metrics = new WorkerMetrics("rpc_queue", { version: "1.2.3", commit: "abc" });
    metrics.requestFinished({ outcome: "ok", durationSeconds: 0.002, queueWaitSeconds: 0.3, redelivered: false });
    metrics.requestFinished({ outcome: "ok", durationSeconds: 0.004, redelivered: true });
    metrics.requestFinished({ outcome: "error", code: "OUT_OF_RANGE", durationSeconds: 0.001, redelivered: false });
    metrics.requestFinished({ outcome: "error", code: "SOMETHING_NEW", durationSeconds: 0.001, redelivered: false });
    metrics.requestFinished({ outcome: "expired", queueWaitSeconds: 61, redelivered: false });
    metrics.requestFinished({ outcome: "dropped", redelivered: false });
    metrics.reconnected();
    const text = render(metrics.families(CONSUMING), "prometheus");
    expect(samples(text).filter((line) => line.startsWith("fibrpc_requests_total"))).toEqual([
      'fibrpc_requests_total{queue="rpc_queue",outcome="ok"} 2',
      'fibrpc_requests_total{queue="rpc_queue",outcome="expired"} 1',
      'fibrpc_requests_total{queue="rpc_queue",outcome="dropped"} 1',
      'fibrpc_requests_total{queue="rpc_queue",outcome="error",code="INVALID_ARGUMENT"} 0',
      'fibrpc_requests_total{queue="rpc_queue",outcome="error",code="OUT_OF_RANGE"} 1',
      'fibrpc_requests_total{queue="rpc_queue",outcome="error",code="INTERNAL"} 0',
      'fibrpc_requests_total{queue="rpc_queue",outcome="error",code="SOMETHING_NEW"} 1',
    ]);
    expect(text).toContain('fibrpc_request_duration_seconds_count{queue="rpc_queue"} 4\n');
    expect(text).toContain('fibrpc_request_queue_wait_seconds_bucket{queue="rpc_queue",le="1"} 1\n');
    expect(text).toContain('fibrpc_request_queue_wait_seconds_count{queue="rpc_queue"} 2\n');
    expect(text).toContain('fibrpc_redelivered_total{queue="rpc_queue"} 1\n');
    expect(text).toContain("fibrpc_reconnects_total 1\n");
    expect(text).toContain('fibrpc_build_info{version="1.2.3",commit="abc"} 1\n');
  });

  test("the gauges follow the worker's state", () => {
    const metrics = new WorkerMetrics("q", { version: "v", commit: "c" });
    const gauges = (status: WorkerStatus): Record<string, string> =>
      Object.fromEntries(
        samples(render(metrics.families(status), "prometheus"))
          .filter((line) => /^fibrpc_(in_flight|prefetch|broker_connected|draining) /.test(line))
          .map((line) => line.split(" ") as [string, string]),
      );
    expect(gauges(CONSUMING)).toEqual({ fibrpc_in_flight: "2", fibrpc_prefetch: "64", fibrpc_broker_connected: "1", fibrpc_draining: "0" });
    expect(gauges({ state: "reconnecting", connected: false, inFlight: 0, prefetch: 8 })).toMatchObject({ fibrpc_broker_connected: "0", fibrpc_draining: "0" });
    expect(gauges({ state: "draining", connected: true, inFlight: 1, prefetch: 8 })).toMatchObject({ fibrpc_broker_connected: "1", fibrpc_draining: "1" });
    expect(gauges({ state: "draining", connected: false, inFlight: 1, prefetch: 8 })).toMatchObject({ fibrpc_broker_connected: "0", fibrpc_draining: "1" });
    expect(gauges({ state: "connecting", connected: false, inFlight: 0, prefetch: 8 })).toMatchObject({ fibrpc_broker_connected: "0" });
  });
});

describe("routes and readiness", () => {
  test("three paths, GET and HEAD on each, 405 with Allow for other methods, 404 for other paths", () => {
    expect(routeRequest("GET", "/metrics")).toEqual({ kind: "found", route: "metrics" });
    expect(routeRequest("HEAD", "/readyz")).toEqual({ kind: "found", route: "readyz" });
    expect(routeRequest("GET", "/livez")).toEqual({ kind: "found", route: "livez" });
    expect(routeRequest("POST", "/livez")).toEqual({ kind: "method-not-allowed", allow: "GET, HEAD" });
    expect(routeRequest("GET", "/")).toEqual({ kind: "not-found" });
    expect(routeRequest("DELETE", "/metrics/")).toEqual({ kind: "not-found" });
  });

  test("ready only while consuming, with the reason otherwise", () => {
    expect(readiness("consuming")).toEqual({ ready: true, line: "ready: consuming" });
    expect(readiness("connecting")).toEqual({ ready: false, line: "not ready: connecting to the broker" });
    expect(readiness("reconnecting").line).toBe("not ready: reconnecting to the broker");
    expect(readiness("draining").line).toMatch(/^not ready: draining/);
    expect(readiness("stopped")).toEqual({ ready: false, line: "not ready: stopped" });
  });
});

describe("exposition: details a scraper depends on", () => {
  test("the content types of both formats", () => {
    expect(CONTENT_TYPES).toEqual({
      prometheus: "text/plain; version=0.0.4; charset=utf-8",
      openmetrics: "application/openmetrics-text; version=1.0.0; charset=utf-8",
    });
  });

  test("Accept: blanks and case do not matter, a bad q is ignored, wildcards count as text, a tie goes to OpenMetrics", () => {
    expect(negotiateFormat(null)).toBe("prometheus");
    expect(negotiateFormat(" Application/OpenMetrics-Text ; version=1.0.0 , text/plain ; q=0.5")).toBe("openmetrics");
    expect(negotiateFormat("application/openmetrics-text, text/plain;q=bogus")).toBe("openmetrics");
    expect(negotiateFormat("application/openmetrics-text;q=0.5, text/*;q=0.9")).toBe("prometheus");
    expect(negotiateFormat("application/openmetrics-text;q=0.5, */*;q=0.9")).toBe("prometheus");
    expect(negotiateFormat("application/openmetrics-text;q=0.5, text/plain;q=0.5")).toBe("openmetrics");
    expect(negotiateFormat("application/openmetrics-text;q=0.7, text/plain;q=0.5")).toBe("openmetrics");
    expect(negotiateFormat("application/json")).toBe("prometheus");
    expect(negotiateFormat("application/json;q=0.9, application/openmetrics-text;q=0.5")).toBe("openmetrics");
  });

  test("numbers: NaN and infinities as the formats write them; no braces for an empty label set", () => {
    expect([formatNumber(Number.NaN), formatNumber(Number.POSITIVE_INFINITY), formatNumber(Number.NEGATIVE_INFINITY), formatNumber(1.5)]).toEqual([
      "NaN",
      "+Inf",
      "-Inf",
      "1.5",
    ]);
    expect(render([{ name: "x", type: "gauge", help: "X.", samples: [{ labels: {}, value: 1 }] }], "prometheus")).toBe("# HELP x X.\n# TYPE x gauge\nx 1\n");
  });
});

describe("worker metrics: names, types and units are the contract", () => {
  const metrics = new WorkerMetrics("q", { version: "1", commit: "c" });

  test("every family's TYPE and UNIT, and a HELP that says something", () => {
    const lines = render(metrics.families(CONSUMING), "openmetrics").split("\n");
    expect(lines.filter((line) => line.startsWith("# TYPE") || line.startsWith("# UNIT"))).toEqual([
      "# TYPE fibrpc_requests counter",
      "# TYPE fibrpc_request_duration_seconds histogram",
      "# UNIT fibrpc_request_duration_seconds seconds",
      "# TYPE fibrpc_request_queue_wait_seconds histogram",
      "# UNIT fibrpc_request_queue_wait_seconds seconds",
      "# TYPE fibrpc_redelivered counter",
      "# TYPE fibrpc_reconnects counter",
      "# TYPE fibrpc_in_flight gauge",
      "# TYPE fibrpc_prefetch gauge",
      "# TYPE fibrpc_broker_connected gauge",
      "# TYPE fibrpc_draining gauge",
      "# TYPE fibrpc_build_info gauge",
    ]);
    for (const help of lines.filter((line) => line.startsWith("# HELP"))) expect(help).toMatch(/^# HELP \S+ \S.{10,}$/);
  });

  test("a code counts only with an error outcome; an error without a code is counted as such", () => {
    const counted = new WorkerMetrics("q", { version: "1", commit: "c" });
    counted.requestFinished({ outcome: "dropped", code: "IGNORED", redelivered: false });
    counted.requestFinished({ outcome: "error", redelivered: false });
    const text = render(counted.families(CONSUMING), "prometheus");
    expect(samples(text).filter((line) => line.startsWith("fibrpc_requests_total") && !line.endsWith(" 0"))).toEqual([
      'fibrpc_requests_total{queue="q",outcome="dropped"} 1',
      'fibrpc_requests_total{queue="q",outcome="error"} 1',
    ]);
    expect(text).not.toContain("IGNORED");
  });
});
