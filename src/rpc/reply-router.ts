import type { FibrpcError } from "../errors.ts";
import type { Reply } from "../protocol.ts";

type Settle = { resolve: (reply: Reply) => void; reject: (error: FibrpcError) => void };

/**
 * Matches replies to pending requests by correlation id. A reply whose id is unknown,
 * or already answered, is dropped: a worker that dies after replying and before acking
 * answers the redelivered request again (see the seed), and that second answer is noise.
 */
export class ReplyRouter {
  private readonly pending = new Map<string, Settle>();

  expect(correlationId: string): Promise<Reply> {
    return new Promise<Reply>((resolve, reject) => {
      this.pending.set(correlationId, { resolve, reject });
    });
  }

  /** Returns false when the reply was dropped as unknown or duplicate. */
  deliver(correlationId: string | undefined, reply: Reply): boolean {
    const settle = correlationId === undefined ? undefined : this.pending.get(correlationId);
    if (settle === undefined || correlationId === undefined) return false;
    this.pending.delete(correlationId);
    settle.resolve(reply);
    return true;
  }

  fail(correlationId: string | undefined, error: FibrpcError): void {
    const settle = correlationId === undefined ? undefined : this.pending.get(correlationId);
    if (settle === undefined || correlationId === undefined) return;
    this.pending.delete(correlationId);
    settle.reject(error);
  }

  failAll(error: FibrpcError): void {
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const settle of waiting) settle.reject(error);
  }

  get size(): number {
    return this.pending.size;
  }
}
