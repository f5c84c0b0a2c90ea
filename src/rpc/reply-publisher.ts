import type { ConfirmChannel, ConsumeMessage } from "amqplib";
import type { ReplyMessage } from "../protocol.ts";

/** How a reply ended, for the request it answers. */
export type ReplyOutcome =
  /** The broker confirmed the reply; the request is acked. */
  | "confirmed"
  /** The broker nacked the reply; the request goes back to the queue for one more try. */
  | "requeued"
  /** Nacked again on a redelivery; the request is acked without an answer, never looped. */
  | "dropped"
  /** The channel died first; the broker requeues the request by itself. */
  | "lost";

/** A reply the broker has not confirmed yet, and the request it answers. */
export interface UnconfirmedReply {
  request: ConsumeMessage;
  replyTo: string;
  outcome: Promise<ReplyOutcome>;
}

/**
 * Publishes replies on a confirm channel and settles each request only after the broker has
 * confirmed its reply, so a crash at any point leaves the request unacked and the broker
 * redelivers it. Every request is acked or rejected exactly once, through this class.
 */
export class ReplyPublisher {
  private readonly unconfirmed = new Map<number, UnconfirmedReply>();
  private open = true;
  /** Replies confirmed so far on this channel (a drain reports how many it finished). */
  confirmedCount = 0;

  constructor(private readonly channel: ConfirmChannel) {}

  /** Replies not yet confirmed: what a channel's death may be blamed on. */
  get pending(): readonly UnconfirmedReply[] {
    return [...this.unconfirmed.values()];
  }

  /** Publishes `reply` to `replyTo`; the request is settled when the broker has answered for it. */
  send(request: ConsumeMessage, replyTo: string, reply: ReplyMessage): Promise<ReplyOutcome> {
    const tag = request.fields.deliveryTag;
    const outcome = new Promise<ReplyOutcome>((resolve) => {
      try {
        this.channel.publish("", replyTo, Buffer.from(reply.body), reply.properties, (error: unknown) => {
          if (error === null || error === undefined) {
            resolve(this.onConfirm(request, tag, true));
            return;
          }
          // amqplib fails pending confirms from its own 'close' listener, before ours has run:
          // wait for the close to finish so a dead channel is not mistaken for a broker nack.
          queueMicrotask(() => resolve(this.onConfirm(request, tag, false)));
        });
      } catch {
        // The channel closed under us: the broker requeues the request, nothing to settle here.
        resolve("lost");
      }
    });
    this.unconfirmed.set(tag, { request, replyTo, outcome });
    return outcome;
  }

  ack(request: ConsumeMessage): void {
    this.settle(request, "ack");
  }

  /** Back to the queue, for another worker (a drain) or another try. */
  requeue(request: ConsumeMessage): void {
    this.settle(request, "requeue");
  }

  /** Resolves once every reply sent so far is confirmed, refused or lost. */
  async settled(): Promise<void> {
    await Promise.all(this.pending.map((reply) => reply.outcome));
  }

  /** The channel is gone: nothing more is settled through it (the broker requeues what it held). */
  channelClosed(): void {
    this.open = false;
  }

  private onConfirm(request: ConsumeMessage, tag: number, confirmed: boolean): ReplyOutcome {
    // A dead channel keeps its entries in `unconfirmed`, for whoever blames them.
    if (!this.open) return "lost";
    this.unconfirmed.delete(tag);
    if (confirmed) {
      this.ack(request);
      this.confirmedCount++;
      return "confirmed";
    }
    // The broker could not take the reply (a nack: rare, internal). One more try, never a loop.
    if (request.fields.redelivered) {
      this.ack(request);
      return "dropped";
    }
    this.requeue(request);
    return "requeued";
  }

  private settle(request: ConsumeMessage, how: "ack" | "requeue"): void {
    if (!this.open) return;
    try {
      if (how === "ack") this.channel.ack(request);
      else this.channel.nack(request, false, true);
    } catch {
      // The channel closed between the check and the call: the broker requeues the request.
    }
  }
}
