/**
 * Latencies in a fixed set of log-spaced buckets (1% wide), so a run of millions of calls
 * costs a few kilobytes and a percentile is within 1% of the exact one. Min, max, count
 * and sum are kept exactly.
 */
const GROWTH = 1.01;
const LOG_GROWTH = Math.log(GROWTH);
/** Values are microseconds; everything below 1 µs shares bucket 0. */
const BUCKETS = Math.ceil(Math.log(3_600e6) / LOG_GROWTH) + 1; // up to an hour

export class LatencyHistogram {
  private readonly counts = new Uint32Array(BUCKETS);
  private total = 0;
  private sumMicros = 0;
  private minMicros = Number.POSITIVE_INFINITY;
  private maxMicros = 0;

  /** Records one latency in milliseconds. */
  record(ms: number): void {
    const micros = Math.max(0, ms * 1000);
    const index = micros < 1 ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log(micros) / LOG_GROWTH));
    this.counts[index] = (this.counts[index] ?? 0) + 1;
    this.total++;
    this.sumMicros += micros;
    if (micros < this.minMicros) this.minMicros = micros;
    if (micros > this.maxMicros) this.maxMicros = micros;
  }

  get count(): number {
    return this.total;
  }

  get maxMs(): number {
    return this.maxMicros / 1000;
  }

  get minMs(): number {
    return this.total === 0 ? 0 : this.minMicros / 1000;
  }

  get meanMs(): number {
    return this.total === 0 ? 0 : this.sumMicros / this.total / 1000;
  }

  /**
   * The latency (ms) that `fraction` (0..1) of the calls did not exceed: the upper edge of
   * the bucket holding that rank, clamped to the exact min and max. 0 when nothing was recorded.
   */
  percentileMs(fraction: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil(Math.min(1, Math.max(0, fraction)) * this.total));
    let seen = 0;
    for (let index = 0; index < BUCKETS; index++) {
      seen += this.counts[index] ?? 0;
      if (seen >= rank) {
        const upper = index === 0 ? 1 : GROWTH ** index;
        return Math.min(this.maxMicros, Math.max(this.minMicros, upper)) / 1000;
      }
    }
    return this.maxMs;
  }
}
