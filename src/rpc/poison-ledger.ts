/**
 * Remembers which requests were waiting for a publish confirm when the broker closed the
 * worker's channel. The broker requeues them, so each comes back; one that was a suspect
 * before is answered alone (so a second close pins the blame on it), and one blamed twice
 * is acked without an answer instead of killing channels forever.
 */
export class PoisonLedger {
  private readonly strikes = new Map<string, number>();

  constructor(private readonly capacity = 10_000) {}

  /** A request's identity across redeliveries; requests without a correlation id share one per reply_to. */
  static keyOf(correlationId: unknown, replyTo: unknown): string {
    return `${String(correlationId)}\u0000${String(replyTo)}`;
  }

  /** Every key that was unconfirmed when a channel died gets one strike. */
  blame(keys: Iterable<string>): void {
    for (const key of keys) {
      const count = (this.strikes.get(key) ?? 0) + 1;
      this.strikes.delete(key); // re-inserted at the end: the oldest entries are evicted first
      this.strikes.set(key, count);
    }
    for (const oldest of this.strikes.keys()) {
      if (this.strikes.size <= this.capacity) break;
      this.strikes.delete(oldest);
    }
  }

  /** Was waiting on a channel that died: answer it on its own. */
  isSuspect(key: string): boolean {
    return (this.strikes.get(key) ?? 0) === 1;
  }

  /** Was alone (or among suspects) on a second channel that died: do not answer it again. */
  isPoisoned(key: string): boolean {
    return (this.strikes.get(key) ?? 0) >= 2;
  }

  /** The request got a confirmed reply after all: forget it. */
  clear(key: string): void {
    this.strikes.delete(key);
  }
}
