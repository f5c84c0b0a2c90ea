import type { ChannelModel, ConfirmChannel, ConsumeMessage } from "amqplib";
import { PoisonLedger } from "./poison-ledger.ts";
import { adoptOrDeclareQueue, type QueueKind } from "./queue.ts";
import { ReplyPublisher } from "./reply-publisher.ts";
import { RequestHandler, type WorkerMemory } from "./request-handler.ts";
import { sessionStep } from "./session-errors.ts";
import type { WorkerObserver } from "./worker-events.ts";
import type { WorkerLog } from "./worker-log.ts";

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

/**
 * One channel's worth of serving: a confirm channel consuming the queue, its deliveries
 * answered in turn by a RequestHandler whose replies a ReplyPublisher sends. Lives as long as
 * its channel; the server opens a new one after a loss.
 */
export class ConsumerSession {
  private readonly backlog: ConsumeMessage[] = [];
  private readonly publisher: ReplyPublisher;
  private readonly handler: RequestHandler;
  private pumping: Promise<void> | undefined;
  private consumerTag: string | undefined;
  private alive = true;
  private draining = false;

  private constructor(
    private readonly channel: ConfirmChannel,
    private readonly options: SessionOptions,
    private readonly memory: WorkerMemory,
    private readonly onLost: SessionLost,
  ) {
    this.publisher = new ReplyPublisher(channel);
    this.handler = new RequestHandler(this.publisher, memory, options);
  }

  /** Opens the channel, adopts or declares the queue and starts consuming. Returns whether it declared the queue. */
  static async open(
    connection: ChannelModel,
    options: SessionOptions,
    memory: WorkerMemory,
    onLost: SessionLost,
  ): Promise<{ session: ConsumerSession; declared: boolean }> {
    const channel = await connection.createConfirmChannel();
    const session = new ConsumerSession(channel, options, memory, onLost);
    // amqplib emits 'error' only when the broker closes this channel and not the whole connection.
    channel.on("error", (error: Error) => session.onChannelError(error));
    channel.on("close", () => session.onChannelClosed());
    try {
      const declared = await adoptOrDeclareQueue(connection, channel, options.queue, options.queueKind);
      await sessionStep("setting the prefetch", undefined, () => channel.prefetch(options.prefetch));
      const { consumerTag } = await sessionStep("consuming", "read", () =>
        channel.consume(options.queue, (message) => session.onDelivery(message), { noAck: false }),
      );
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
    const confirmedBefore = this.publisher.confirmedCount;
    if (this.alive && this.consumerTag !== undefined) await this.channel.cancel(this.consumerTag).catch(() => {});
    const handedBack = this.handBack();
    await this.pumping;
    await this.publisher.settled();
    // close-ok comes back only after the broker has processed every frame sent before it, acks included.
    if (this.alive) await this.channel.close().catch(() => {});
    this.alive = false;
    return { handedBack, finished: this.publisher.confirmedCount - confirmedBefore };
  }

  /** Requests taken from the queue and not yet settled: waiting their turn, or their reply's confirm. */
  get inFlight(): number {
    return this.backlog.length + this.publisher.pending.length;
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
      this.publisher.requeue(message);
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
      const mustWait = this.handler.handle(message);
      if (mustWait) await mustWait;
      if (performance.now() - sliceStart >= SLICE_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        sliceStart = performance.now();
      }
    }
  }

  private handBack(): number {
    const unstarted = this.backlog.splice(0);
    for (const message of unstarted) this.publisher.requeue(message);
    return unstarted.length;
  }

  /**
   * The broker closed this channel or its connection over something sent on it: every reply
   * still unconfirmed is a suspect (its request gets a strike, its caller's node is checked
   * before the next reply to it).
   */
  blameUnconfirmed(): void {
    const pending = this.publisher.pending;
    this.memory.ledger.blame(pending.map(({ request, replyTo }) => PoisonLedger.keyOf(request.properties.correlationId, replyTo)));
    this.memory.guard.suspect(pending.map(({ replyTo }) => replyTo));
  }

  private onChannelError(error: Error): void {
    if (!this.alive) return;
    this.blameUnconfirmed();
    this.stopUsingChannel();
    if (!this.draining) this.onLost(this, `channel closed by the broker (${error.message})`);
  }

  private onChannelClosed(): void {
    this.stopUsingChannel();
  }

  private stopUsingChannel(): void {
    this.alive = false;
    this.publisher.channelClosed();
    this.backlog.length = 0;
  }
}
