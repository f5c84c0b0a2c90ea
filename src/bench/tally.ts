import { fibonacci } from "../fib.ts";
import { LatencyHistogram } from "./histogram.ts";

/** Running counts of a bench: answers right, failures by code, latencies of the answered. */
export class BenchTally {
  readonly latency = new LatencyHistogram();
  readonly errors = new Map<string, number>();
  ok = 0;
  failed = 0;

  recordOk(latencyMs: number): void {
    this.ok++;
    this.latency.record(latencyMs);
  }

  /** A failure by code; `latencyMs` only when an answer came back (a wrong or error reply). */
  recordFailure(code: string, latencyMs?: number): void {
    this.failed++;
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
    if (latencyMs !== undefined) this.latency.record(latencyMs);
  }

  get done(): number {
    return this.ok + this.failed;
  }
}

/**
 * The right answer for each n, computed once here with the same code as the worker:
 * every reply is checked against it, so a fast wrong server cannot win a benchmark.
 */
export class ExpectedAnswers {
  private readonly known = new Map<number, string>();

  for(n: number): string {
    let answer = this.known.get(n);
    if (answer === undefined) {
      answer = fibonacci(n).toString();
      this.known.set(n, answer);
    }
    return answer;
  }
}
