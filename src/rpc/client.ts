import type { Channel, ChannelModel, ConsumeMessage, Message } from "amqplib";
import { formatDurationMs } from "../duration.ts";
import {
  BrokerUnreachableError,
  FibrpcError,
  NoServerError,
  ServerReplyError,
  TimeoutError,
} from "../errors.ts";
import { APP_ID, decodeReply, DIRECT_REPLY_TO, TEXT_PLAIN, type Reply } from "../protocol.ts";
import {
  classifyBrokerError,
  connectionLostError,
  inspectQueue,
  isNotFound,
  noServerError,
  openConnection,
  type BrokerOptions,
  type NodeConnection,
  type QueueState,
} from "./broker.ts";
import { ReplyRouter } from "./reply-router.ts";

export type ReplyQueueMode = "direct" | "exclusive";

export interface CallOptions {
  queue: string;
  timeoutMs: number;
  /** Wait up to the timeout for a consumer to appear instead of failing at once with no-server. */
  waitForServer: boolean;
  replyQueue: ReplyQueueMode;
  /** When the caller's clock started (epoch ms), so connecting counts against the timeout. Default: now. */
  startedAtMs?: number | undefined;
}

export type CallOutcome = { n: number; ok: true; value: string } | { n: number; ok: false; error: FibrpcError };

/** One timed request (for health checks): the outcome and how long the round trip took. */
export type ProbeOutcome = CallOutcome & { rttMs: number };

const SERVER_POLL_MS = 100;
/** While replies are awaited, how often the queue's consumers are counted. */
const CONSUMER_WATCH_MS = 500;
/** Consecutive counts of zero before concluding every server is gone: a restarting worker is not "gone". */
const CONSUMER_WATCH_STRIKES = 2;
/** Closing is a courtesy: a blocked or dying broker may never answer it. */
const CLOSE_WAIT_MS = 1000;

/**
 * The calling side of the RPC: one connection, one channel, all requests pipelined on it,
 * replies routed back by correlation id. Knows nothing of argv, terminals or exit codes.
 */
export class RpcClient {
  private readonly router = new ReplyRouter();
  private lost: FibrpcError | undefined;

  private readonly connection: ChannelModel;
  /** The node this client is connected to, for messages that name it. */
  private readonly url: string;

  private constructor({ connection, url }: NodeConnection) {
    this.connection = connection;
    this.url = url;
    connection.on("error", () => {}); // 'close' carries the same news; see onConnectionClosed
    connection.on("close", (error?: Error) => this.onConnectionClosed(error));
    connection.on("blocked", (reason: string) => this.onBlocked(reason));
  }

  static async connect(broker: BrokerOptions): Promise<RpcClient> {
    return new RpcClient(await openConnection(broker));
  }

  /** Sends one request per n, all at once, and resolves with one outcome per n, in order. */
  async callMany(ns: readonly number[], options: CallOptions): Promise<CallOutcome[]> {
    const deadline = (options.startedAtMs ?? Date.now()) + options.timeoutMs;
    const channel = await this.openChannel();
    try {
      // Both are queued on the channel at once: one round trip's wait instead of two.
      const [replyTo] = await Promise.all([
        this.startReplyConsumer(channel, options.replyQueue),
        this.awaitServer(channel, options, deadline),
      ]);
      if (this.lost) throw this.lost;
      const replies = ns.map((n) => this.send(channel, n, replyTo, options.queue, deadline));
      const stopWatching = this.watchConsumers(options.queue);
      try {
        return await this.settleBy(replies, ns, deadline, options.timeoutMs);
      } finally {
        stopWatching();
      }
    } finally {
      void channel.close().catch(() => {});
    }
  }

  /** The queue's ready messages and consumers, or null when it does not exist; changes nothing. */
  async inspectQueue(queue: string): Promise<QueueState | null> {
    try {
      return await inspectQueue(this.connection, queue);
    } catch (error) {
      throw this.lost ?? classifyBrokerError(error, this.url);
    }
  }

  /** One request for F(n) over direct reply-to, timed from before the channel opens to the reply. */
  async probe(n: number, options: { queue: string; timeoutMs: number }): Promise<ProbeOutcome> {
    const started = performance.now();
    const [outcome] = await this.callMany([n], { ...options, waitForServer: false, replyQueue: "direct" });
    const rttMs = performance.now() - started;
    if (outcome === undefined) throw new Error("callMany returned no outcome for one n");
    return { ...outcome, rttMs };
  }

  async close(): Promise<void> {
    this.lost ??= new BrokerUnreachableError("connection closed by fibrpc");
    await Promise.race([this.connection.close().catch(() => {}), Bun.sleep(CLOSE_WAIT_MS)]);
  }

  private async openChannel(): Promise<Channel> {
    try {
      const channel = await this.connection.createChannel();
      // A closed channel can carry no more requests or replies: whatever waits on it fails now,
      // with the broker's reason (a 403 for a user without write permission), not at the timeout.
      // A 404 from the no-server check lands here too, with nothing waiting yet.
      channel.on("error", (error: unknown) => this.router.failAll(classifyBrokerError(error, this.url)));
      channel.on("return", (message: Message) => this.onReturned(message));
      return channel;
    } catch (error) {
      throw this.lost ?? classifyBrokerError(error, this.url);
    }
  }

  private async startReplyConsumer(channel: Channel, mode: ReplyQueueMode): Promise<string> {
    const onReply = (message: ConsumeMessage | null): void => {
      if (message === null) return;
      this.router.deliver(message.properties.correlationId, decodeReply(message.content, message.properties));
    };
    if (mode === "direct") {
      await channel.consume(DIRECT_REPLY_TO, onReply, { noAck: true });
      return DIRECT_REPLY_TO;
    }
    const { queue } = await channel.assertQueue("", { exclusive: true, autoDelete: true, durable: false });
    await channel.consume(queue, onReply, { noAck: true });
    return queue;
  }

  /** Fails fast (no-server) unless a consumer is on the queue, or polls for one when asked to wait. */
  private async awaitServer(channel: Channel, options: CallOptions, deadline: number): Promise<void> {
    const { queue } = options;
    if (!options.waitForServer) {
      const noServer = noServerError(queue, await this.consumerCount(channel, queue));
      if (noServer) throw noServer;
      return;
    }
    // Polled on scratch channels: a passive declare of a missing queue would close `channel`.
    for (;;) {
      const state = await this.inspectQueue(queue);
      if (state !== null && state.consumerCount > 0) return;
      if (Date.now() + SERVER_POLL_MS > deadline) {
        throw new NoServerError(
          `no server: nothing consumed from queue '${queue}' within ${formatDurationMs(options.timeoutMs)}`,
        );
      }
      await Bun.sleep(SERVER_POLL_MS);
    }
  }

  /** The queue's consumer count, or null when it does not exist (which also closes `channel`). */
  private async consumerCount(channel: Channel, queue: string): Promise<number | null> {
    try {
      return (await channel.checkQueue(queue)).consumerCount;
    } catch (error) {
      if (isNotFound(error)) return null;
      throw this.lost ?? classifyBrokerError(error, this.url);
    }
  }

  private send(channel: Channel, n: number, replyTo: string, queue: string, deadline: number): Promise<Reply> {
    const correlationId = crypto.randomUUID();
    const reply = this.router.expect(correlationId);
    const remainingMs = Math.max(1, deadline - Date.now());
    channel.publish("", queue, Buffer.from(String(n)), {
      correlationId,
      replyTo,
      mandatory: true,
      contentType: TEXT_PLAIN,
      expiration: String(remainingMs),
      timestamp: Math.floor(Date.now() / 1000),
      appId: APP_ID,
    });
    return reply;
  }

  private async settleBy(
    replies: Promise<Reply>[],
    ns: readonly number[],
    deadline: number,
    timeoutMs: number,
  ): Promise<CallOutcome[]> {
    const timer = setTimeout(
      () => this.router.failAll(new TimeoutError(`timeout: no answer within ${formatDurationMs(timeoutMs)}`)),
      Math.max(0, deadline - Date.now()),
    );
    try {
      const settled = await Promise.allSettled(replies);
      return settled.map((result, index): CallOutcome => {
        const n = ns[index] ?? -1;
        if (result.status === "rejected") {
          const error: unknown = result.reason;
          return { n, ok: false, error: error instanceof FibrpcError ? error : classifyBrokerError(error, this.url) };
        }
        const reply = result.value;
        return reply.ok
          ? { n, ok: true, value: reply.value }
          : { n, ok: false, error: new ServerReplyError(reply.error.code, reply.error.message) };
      });
    } finally {
      clearTimeout(timer);
    }
  }

  private onReturned(message: Message): void {
    this.router.fail(
      message.properties.correlationId,
      new NoServerError(`no server: the broker returned the request as unroutable (no queue '${message.fields.routingKey}')`),
    );
  }

  /**
   * Counts the queue's consumers while replies are awaited: when every worker has gone (and
   * stays gone), the pending requests fail with no-server instead of waiting out the timeout.
   * Returns the function that stops the watch.
   */
  private watchConsumers(queue: string): () => void {
    let zeroCounts = 0;
    let stopped = false;
    const check = async (): Promise<void> => {
      const state = await inspectQueue(this.connection, queue).catch(() => undefined); // a lost connection is reported by 'close'
      if (stopped || state === undefined) return;
      zeroCounts = state === null || state.consumerCount === 0 ? zeroCounts + 1 : 0;
      if (zeroCounts >= CONSUMER_WATCH_STRIKES) {
        const why = state === null ? `queue '${queue}' was deleted` : `every worker left queue '${queue}'`;
        this.router.failAll(new NoServerError(`no server: ${why} while the answer was awaited`));
      }
    };
    const timer = setInterval(() => void check(), CONSUMER_WATCH_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }

  /** A resource alarm (memory, disk) on the broker: nothing we publish gets through until it clears. */
  private onBlocked(reason: string): void {
    if (this.lost) return;
    this.lost = new BrokerUnreachableError(
      `broker blocked the connection: a resource alarm is active on it (${reason}); requests cannot be published until an operator clears it`,
    );
    this.router.failAll(this.lost);
  }

  private onConnectionClosed(error: Error | undefined): void {
    if (this.lost) return;
    this.lost = connectionLostError(error, this.url);
    this.router.failAll(this.lost);
  }
}
