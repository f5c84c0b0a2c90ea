import type { ChannelModel, ConfirmChannel, ConsumeMessage } from "amqplib";
import { fibonacci } from "../fib.ts";
import { APP_ID, APPLICATION_JSON, encodeErrorBody, ERROR_CODE_HEADER, ERROR_TYPE, TEXT_PLAIN, type ErrorBody } from "../protocol.ts";
import { PoisonLedger } from "./poison-ledger.ts";
import { adoptOrDeclareQueue, type QueueKind } from "./queue.ts";
import type { WorkerLog } from "./worker-log.ts";
import type { RequestOutcome, WorkerObserver } from "./worker-events.ts";
import { triageRequest } from "./triage.ts";
import { LogThrottle } from "../log-throttle.ts";

export interface SessionOptions {
  queue: string;
  queueKind: QueueKind;
  prefetch: number;
  maxN: number;
  log: WorkerLog;
  observer: WorkerObserver;
}

/** Called when the broker took this session's channel or consumer away while the connection stays up. */
export type SessionLost = (session: ConsumerSession, reason: string) => void;

/** What a drain did, for the shutdown log line. */
export interface DrainReport {
  handedBack: number;
  finished: number;
}

/**
 * Longest stretch of work between two returns to the event loop. amqplib hands over every
 * delivery in a socket read synchronously; answering them all in one go would starve the
 * heartbeat timers and the socket, and the broker would drop a busy worker as dead.
 */
const SLICE_MS = 10;

/** At most one "dropped" line of a kind per this interval: a flood of bad requests must not flood the log. */
const DROP_LOG_INTERVAL_MS = 5000;

interface Reply {
  body: string;
  properties: Record<string, unknown>;
  /** Set on error replies: the wire code. */
  errorCode?: string;
}

interface PendingConfirm {
  key: string;
  settled: Promise<void>;
}

/** When a request came in, for its duration and queue-wait figures. */
interface Arrival {
  atMs: number;
  queueWaitSeconds: number | undefined;
}

/**
 * One channel's worth of serving: a confirm channel consuming the queue. A request is acked
 * only once the broker confirmed its reply, so a crash at any point leaves it unacked and the
 * broker redelivers it. Lives as long as its channel; the server opens a new one after a loss.
 */
export class ConsumerSession {
  private readonly backlog: ConsumeMessage[] = [];
  private readonly unconfirmed = new Map<number, PendingConfirm>();
  private pumping: Promise<void> | undefined;
  private consumerTag: string | undefined;
  private alive = true;
  private draining = false;
  private finishedSinceDrain = 0;
  private readonly dropLogThrottle = new LogThrottle(DROP_LOG_INTERVAL_MS);

  private constructor(
    private readonly channel: ConfirmChannel,
    private readonly options: SessionOptions,
    private readonly ledger: PoisonLedger,
    private readonly onLost: SessionLost,
  ) {}

  /** Opens the channel, adopts or declares the queue and starts consuming. Returns whether it declared the queue. */
  static async open(
    connection: ChannelModel,
    options: SessionOptions,
    ledger: PoisonLedger,
    onLost: SessionLost,
  ): Promise<{ session: ConsumerSession; declared: boolean }> {
    const channel = await connection.createConfirmChannel();
    const session = new ConsumerSession(channel, options, ledger, onLost);
    // amqplib emits 'error' only when the broker closes this channel and not the whole connection.
    channel.on("error", (error: Error) => session.onChannelError(error));
    channel.on("close", () => session.onChannelClosed());
    try {
      const declared = await adoptOrDeclareQueue(connection, channel, options.queue, options.queueKind);
      await channel.prefetch(options.prefetch);
      const { consumerTag } = await channel.consume(options.queue, (message) => session.onDelivery(message), { noAck: false });
      session.consumerTag = consumerTag;
      return { session, declared };
    } catch (error) {
      session.alive = false;
      await channel.close().catch(() => {});
      throw error;
    }
  }

  /**
   * Graceful end: no new deliveries, the request being answered finishes, prefetched ones go
   * back to the queue for another worker, and the channel closes only after every reply is
   * confirmed and its ack has reached the broker.
   */
  async drain(): Promise<DrainReport> {
    this.draining = true;
    this.finishedSinceDrain = 0;
    if (this.alive && this.consumerTag !== undefined) await this.channel.cancel(this.consumerTag).catch(() => {});
    const handedBack = this.handBack();
    await this.pumping;
    await Promise.all([...this.unconfirmed.values()].map((pending) => pending.settled));
    // close-ok comes back only after the broker has processed every frame sent before it, acks included.
    if (this.alive) await this.channel.close().catch(() => {});
    this.alive = false;
    return { handedBack, finished: this.finishedSinceDrain };
  }

  /** Requests taken from the queue and not yet settled: waiting their turn, or their reply's confirm. */
  get inFlight(): number {
    return this.backlog.length + this.unconfirmed.size;
  }

  /** Drops the session without ceremony (its channel is already dead or useless); the broker requeues what it held. */
  abandon(): void {
    this.alive = false;
    this.backlog.length = 0;
    void this.channel.close().catch(() => {});
  }

  private onDelivery(message: ConsumeMessage | null): void {
    if (message === null) {
      // The broker cancelled the consumer: the queue was deleted under us.
      if (!this.draining) this.onLost(this, `queue '${this.options.queue}' was deleted`);
      return;
    }
    if (this.draining) {
      this.settle(message, "requeue");
      return;
    }
    this.backlog.push(message);
    this.pumping ??= this.pump().finally(() => {
      this.pumping = undefined;
    });
  }

  private async pump(): Promise<void> {
    // Let amqplib finish handing over this socket read before any work starts.
    await Promise.resolve();
    let sliceStart = performance.now();
    while (this.alive && !this.draining) {
      const message = this.backlog.shift();
      if (message === undefined) return;
      const mustWait = this.handle(message);
      if (mustWait) await mustWait;
      if (performance.now() - sliceStart >= SLICE_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        sliceStart = performance.now();
      }
    }
  }

  /** Answers or drops one request. Returns a promise to wait on when it must be answered on its own. */
  private handle(message: ConsumeMessage): Promise<void> | undefined {
    const { properties } = message;
    const arrival = arrivalOf(properties.timestamp);
    const key = PoisonLedger.keyOf(properties.correlationId, properties.replyTo);
    const decision = triageRequest(
      {
        body: message.content,
        replyTo: properties.replyTo,
        timestamp: properties.timestamp,
        expiration: properties.expiration,
        poisoned: this.ledger.isPoisoned(key),
      },
      Date.now(),
      this.options.maxN,
    );
    if (decision.action === "drop") {
      const admitted = this.dropLogThrottle.admit(decision.reason, Date.now());
      if (admitted.show) {
        const heldBack = admitted.heldBack > 0 ? `; ${admitted.heldBack} more like it since the last such line` : "";
        this.options.log[decision.level](`${decision.reason} (correlation id ${String(properties.correlationId)})${heldBack}`);
      }
      this.ledger.clear(key);
      this.settle(message, "ack");
      this.report(message, decision.why === "expired" ? "expired" : "dropped", arrival);
      return undefined;
    }
    const reply = decision.action === "compute" ? this.compute(decision.n) : errorReply(decision.error);
    const confirmed = this.publishReply(message, decision.replyTo, reply, key, arrival);
    // A suspect that took a channel down before is answered alone, so a second close can only be its fault.
    return this.ledger.isSuspect(key) ? confirmed : undefined;
  }

  private compute(n: number): Reply {
    try {
      return { body: fibonacci(n).toString(), properties: { contentType: TEXT_PLAIN } };
    } catch (error) {
      return errorReply({ code: "INTERNAL", message: error instanceof Error ? error.message : String(error) });
    }
  }

  private publishReply(message: ConsumeMessage, replyTo: string, reply: Reply, key: string, arrival: Arrival): Promise<void> {
    const tag = message.fields.deliveryTag;
    const settled = new Promise<void>((resolve) => {
      try {
        this.channel.publish(
          "",
          replyTo,
          Buffer.from(reply.body),
          { correlationId: message.properties.correlationId, appId: APP_ID, ...reply.properties },
          (error: unknown) => {
            if (error === null || error === undefined) {
              this.onConfirm(message, tag, key, true);
              this.report(message, reply.errorCode === undefined ? "ok" : "error", arrival, reply.errorCode);
              resolve();
              return;
            }
            // amqplib fails pending confirms from its own 'close' listener, before ours has run:
            // wait for the close to finish so a dead channel is not mistaken for a broker nack.
            queueMicrotask(() => {
              this.onConfirm(message, tag, key, false);
              resolve();
            });
          },
        );
      } catch {
        // The channel closed under us: the broker requeues the request, nothing to settle here.
        resolve();
      }
    });
    this.unconfirmed.set(tag, { key, settled });
    return settled;
  }

  private onConfirm(message: ConsumeMessage, tag: number, key: string, confirmed: boolean): void {
    if (!this.alive) return; // the channel died: the request stays in `unconfirmed` for the blame, the broker requeues it
    this.unconfirmed.delete(tag);
    if (confirmed) {
      this.ledger.clear(key);
      this.settle(message, "ack");
      if (this.draining) this.finishedSinceDrain++;
      return;
    }
    // The broker could not take the reply (a nack: rare, internal). One more try, never a loop.
    this.settle(message, message.fields.redelivered ? "ack" : "requeue");
    if (message.fields.redelivered) this.options.log.warn(`the broker refused the reply twice; request ${String(message.properties.correlationId)} dropped`);
  }

  private report(message: ConsumeMessage, outcome: RequestOutcome, arrival: Arrival, code?: string): void {
    const answered = outcome === "ok" || outcome === "error";
    this.options.observer.requestFinished({
      outcome,
      redelivered: message.fields.redelivered,
      ...(code === undefined ? {} : { code }),
      ...(answered ? { durationSeconds: (Date.now() - arrival.atMs) / 1000 } : {}),
      ...(arrival.queueWaitSeconds === undefined ? {} : { queueWaitSeconds: arrival.queueWaitSeconds }),
    });
  }

  private settle(message: ConsumeMessage, how: "ack" | "requeue"): void {
    if (!this.alive) return;
    try {
      if (how === "ack") this.channel.ack(message);
      else this.channel.nack(message, false, true);
    } catch {
      // The channel closed between the check and the call: the broker requeues the request.
    }
  }

  private handBack(): number {
    const unstarted = this.backlog.splice(0);
    for (const message of unstarted) this.settle(message, "requeue");
    return unstarted.length;
  }

  private onChannelError(error: Error): void {
    if (!this.alive) return;
    this.ledger.blame([...this.unconfirmed.values()].map((pending) => pending.key));
    this.alive = false;
    this.backlog.length = 0;
    if (!this.draining) this.onLost(this, `channel closed by the broker (${error.message})`);
  }

  private onChannelClosed(): void {
    this.alive = false;
    this.backlog.length = 0;
  }
}

/** AMQP timestamps are whole seconds: the wait is known to a second, and never negative. */
function arrivalOf(timestampSeconds: unknown): Arrival {
  const atMs = Date.now();
  const queueWaitSeconds = typeof timestampSeconds === "number" && Number.isFinite(timestampSeconds) ? Math.max(0, atMs / 1000 - timestampSeconds) : undefined;
  return { atMs, queueWaitSeconds };
}

function errorReply(error: ErrorBody): Reply {
  return {
    errorCode: error.code,
    body: encodeErrorBody(error),
    properties: { contentType: APPLICATION_JSON, type: ERROR_TYPE, headers: { [ERROR_CODE_HEADER]: error.code } },
  };
}
