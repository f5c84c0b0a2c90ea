import { formatDurationMs } from "../duration.ts";
import { escapeControl } from "../escape.ts";
import { plural } from "../text.ts";
import type { LatencyHistogram } from "./histogram.ts";

/** What a bench run found, as `--json` prints it. Latencies in milliseconds. */
export interface BenchSummary {
  queue: string;
  n: string;
  concurrency: number;
  connections: number;
  /** Every request that finished, answered or not. */
  calls: number;
  ok: number;
  failed: number;
  /** Failures by code: the server's error code, or TIMEOUT, WRONG_ANSWER, UNREACHABLE… */
  errors: Record<string, number>;
  elapsedSeconds: number;
  callsPerSecond: number;
  /** null when no call was answered: there is no latency to report, not a latency of 0. */
  latencyMs: { min: number; mean: number; p50: number; p90: number; p99: number; max: number } | null;
}

export interface SummaryInput {
  queue: string;
  n: string;
  concurrency: number;
  connections: number;
  ok: number;
  errors: ReadonlyMap<string, number>;
  elapsedMs: number;
  latency: LatencyHistogram;
}

export function summarize(input: SummaryInput): BenchSummary {
  // An error code is whatever the worker sent: escaped before it reaches a terminal or a JSON consumer's.
  const entries = [...input.errors.entries()].map(([code, count]): [string, number] => [escapeControl(code), count]);
  const errors = Object.fromEntries(entries.sort(([a], [b]) => a.localeCompare(b)));
  const failed = Object.values(errors).reduce((sum, count) => sum + count, 0);
  const calls = input.ok + failed;
  const seconds = input.elapsedMs / 1000;
  const { latency } = input;
  return {
    queue: input.queue,
    n: input.n,
    concurrency: input.concurrency,
    connections: input.connections,
    calls,
    ok: input.ok,
    failed,
    errors,
    elapsedSeconds: round(seconds, 3),
    callsPerSecond: seconds > 0 ? round(calls / seconds, 1) : 0,
    latencyMs:
      latency.count === 0
        ? null
        : {
            min: round(latency.minMs, 3),
            mean: round(latency.meanMs, 3),
            p50: round(latency.percentileMs(0.5), 3),
            p90: round(latency.percentileMs(0.9), 3),
            p99: round(latency.percentileMs(0.99), 3),
            max: round(latency.maxMs, 3),
          },
  };
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

export function formatErrors(errors: Record<string, number>): string {
  const entries = Object.entries(errors);
  return entries.length === 0 ? "none" : entries.map(([code, count]) => `${code} ${count}`).join(", ");
}

/** The human report on stdout. */
export function formatSummary(summary: BenchSummary): string {
  const { latencyMs: l } = summary;
  const ms = formatDurationMs;
  return [
    `${plural(summary.calls, "call")} in ${ms(summary.elapsedSeconds * 1000)} on queue '${summary.queue}' ` +
      `(n=${summary.n}, ${summary.concurrency} in flight, ${plural(summary.connections, "connection")})`,
    `  calls/s  ${Math.round(summary.callsPerSecond)}`,
    l === null
      ? "  latency  none measured: no call was answered"
      : `  latency  p50 ${ms(l.p50)}  p90 ${ms(l.p90)}  p99 ${ms(l.p99)}  max ${ms(l.max)}  (mean ${ms(l.mean)})`,
    `  errors   ${formatErrors(summary.errors)}`,
  ]
    .map((line) => `${line}\n`)
    .join("");
}
