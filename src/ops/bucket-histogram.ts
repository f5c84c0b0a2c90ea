import type { HistogramSample, Labels } from "./exposition.ts";

/**
 * A Prometheus histogram: fixed upper bounds, a count per bucket, the sum. Observing is a
 * short scan and three additions (it runs once per request, ~20k times a second); the
 * cumulative counts Prometheus wants are added up only when scraped.
 */
export class BucketHistogram {
  /** counts[i]: observations in (bounds[i-1], bounds[i]]; the last slot is above every bound. */
  private readonly counts: number[];
  private sum = 0;
  private count = 0;

  constructor(private readonly bounds: readonly number[]) {
    if (bounds.some((bound, index) => index > 0 && bound <= (bounds[index - 1] ?? bound))) {
      throw new Error("histogram bounds must increase");
    }
    this.counts = Array.from({ length: bounds.length + 1 }, () => 0);
  }

  observe(value: number): void {
    const { bounds } = this;
    let index = 0;
    while (index < bounds.length && value > (bounds[index] ?? 0)) index++;
    this.counts[index] = (this.counts[index] ?? 0) + 1;
    this.sum += value;
    this.count++;
  }

  sample(labels?: Labels): HistogramSample {
    let running = 0;
    const cumulative = this.bounds.map((_bound, index) => (running += this.counts[index] ?? 0));
    return { ...(labels === undefined ? {} : { labels }), bounds: this.bounds, counts: cumulative, sum: this.sum, count: this.count };
  }
}
