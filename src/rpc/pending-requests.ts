import { MAX_TIMER_MS } from "../within.ts";

/**
 * Requests waiting for their reply, by correlation id, each with its deadline, and one timer
 * for all of them, due at the earliest deadline: when it fires, every request past its deadline
 * is taken out and handed to `onExpired`. (A timer per request would cost the load generator a
 * timer per call; sweeping at an interval would time requests out late.)
 */
export class PendingRequests<T extends { deadlineMs: number }> {
  private readonly byId = new Map<string, T>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerDueMs = Number.POSITIVE_INFINITY;

  constructor(private readonly onExpired: (request: T) => void) {}

  add(correlationId: string, request: T): void {
    this.byId.set(correlationId, request);
    this.arm(request.deadlineMs);
  }

  get(correlationId: string): T | undefined {
    return this.byId.get(correlationId);
  }

  /** Takes the request out; undefined when it is not (or no longer) waiting. */
  take(correlationId: string): T | undefined {
    const request = this.byId.get(correlationId);
    if (request !== undefined) this.byId.delete(correlationId);
    return request;
  }

  takeAll(): T[] {
    const all = [...this.byId.values()];
    this.byId.clear();
    return all;
  }

  entries(): IterableIterator<[string, T]> {
    return this.byId.entries();
  }

  get size(): number {
    return this.byId.size;
  }

  /** The latest deadline of what waits (or `nowMs` when nothing does): how long a failover may take. */
  latestDeadlineMs(nowMs: number): number {
    let latest = nowMs;
    for (const request of this.byId.values()) latest = Math.max(latest, request.deadlineMs);
    return latest;
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timerDueMs = Number.POSITIVE_INFINITY;
  }

  private arm(deadlineMs: number): void {
    if (deadlineMs >= this.timerDueMs) return;
    clearTimeout(this.timer);
    this.timerDueMs = deadlineMs;
    this.timer = setTimeout(() => this.expire(), Math.min(MAX_TIMER_MS, Math.max(0, deadlineMs - Date.now())));
  }

  private expire(): void {
    this.timerDueMs = Number.POSITIVE_INFINITY;
    const nowMs = Date.now();
    let nextDueMs = Number.POSITIVE_INFINITY;
    for (const [correlationId, request] of this.byId) {
      if (request.deadlineMs <= nowMs) {
        this.byId.delete(correlationId);
        this.onExpired(request);
      } else if (request.deadlineMs < nextDueMs) nextDueMs = request.deadlineMs;
    }
    if (nextDueMs !== Number.POSITIVE_INFINITY) this.arm(nextDueMs);
  }
}
