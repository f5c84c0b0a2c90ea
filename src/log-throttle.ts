/**
 * Keeps a repeated log line from flooding the log: a queue full of requests without
 * `reply_to` would otherwise write one warning each. The first line of a kind is shown, then
 * at most one per interval, each saying how many like it were held back since the last one.
 * Pure: the caller passes the clock.
 */
export class LogThrottle {
  private readonly seen = new Map<string, { shownAtMs: number; heldBack: number }>();

  constructor(private readonly intervalMs: number) {}

  /** Whether to show a line of this kind now, and how many were held back before it. */
  admit(kind: string, nowMs: number): { show: false } | { show: true; heldBack: number } {
    const last = this.seen.get(kind);
    if (last !== undefined && nowMs - last.shownAtMs < this.intervalMs) {
      last.heldBack++;
      return { show: false };
    }
    this.seen.set(kind, { shownAtMs: nowMs, heldBack: 0 });
    return { show: true, heldBack: last?.heldBack ?? 0 };
  }
}
