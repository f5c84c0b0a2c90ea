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
  private readonly known = new Map<number, { text: string; bytes: Buffer }>();

  for(n: number): string {
    return this.entry(n).text;
  }

  /** Whether a reply body is exactly F(n) in decimal: a byte comparison, no decoding. */
  matches(n: number, body: Uint8Array): boolean {
    return this.entry(n).bytes.equals(body);
  }

  private entry(n: number): { text: string; bytes: Buffer } {
    let answer = this.known.get(n);
    if (answer === undefined) {
      const text = fibonacci(n).toString();
      answer = { text, bytes: Buffer.from(text) };
      this.known.set(n, answer);
    }
    return answer;
  }
}
