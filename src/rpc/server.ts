import type { Channel, ChannelModel, ConsumeMessage, RecoveringChannelModel } from "amqplib";
import { fibonacci } from "../fib.ts";
import { redactUrl } from "../config.ts";
import {
  APP_ID,
  APPLICATION_JSON,
  encodeErrorBody,
  ERROR_CODE_HEADER,
  ERROR_TYPE,
  parseRequestBody,
  requestDeadlineMs,
  TEXT_PLAIN,
  type ErrorBody,
} from "../protocol.ts";
import { classifyBrokerError, openRecoveringConnection, type BrokerOptions } from "./broker.ts";
import { adoptOrDeclareQueue, type QueueKind } from "./queue.ts";
import { coalesceWrites } from "./write-coalescing.ts";

/** Where the worker reports what happens; the serve command plugs its logger in. */
export interface ServerLog {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  debug(message: string): void;
}

export interface ServerOptions {
  broker: BrokerOptions;
  queue: string;
  queueKind: QueueKind;
  prefetch: number;
  maxN: number;
  drainTimeoutMs: number;
  log: ServerLog;
}

/** Reconnect backoff: quick first retries so a broker restart costs seconds, capped so an outage does not flood. */
const RECOVERY = { initialDelay: 200, maxDelay: 5000, factor: 2, jitter: 0.2 } as const;

interface ActiveConsumer {
  connection: ChannelModel;
  channel: Channel;
  consumerTag: string;
}

/**
 * The Fibonacci worker: consumes requests, replies to `reply_to`, acks only after the reply
 * is published, and turns every failure into an error reply instead of dying. Survives broker
 * restarts through amqplib's connection recovery, re-opening its channel and consumer each time.
 */
export class FibServer {
  private recovering: RecoveringChannelModel | undefined;
  private active: ActiveConsumer | undefined;
  private draining = false;
  private outageLogged = false;
  private readonly finished = Promise.withResolvers<void>();

  constructor(private readonly options: ServerOptions) {}

  /**
   * Connects and serves. Resolves when the worker has stopped (after `stop()`); rejects
   * when it cannot go on (the broker refused our credentials or permissions).
   */
  async run(): Promise<void> {
    const { log, broker } = this.options;
    const recovering = await openRecoveringConnection(broker, {
      ...RECOVERY,
      setup: (connection: ChannelModel) => this.setUpConsumer(connection),
    });
    this.recovering = recovering;
    recovering.on("connect", () => {
      this.outageLogged = false;
    });
    recovering.on("disconnect", (error: Error) => {
      this.active = undefined;
      if (!this.draining) log.warn(`connection lost: ${classifyBrokerError(error, broker.url).message}; reconnecting`);
    });
    recovering.on("connect-failed", (error: Error) => this.onConnectFailed(error));
    recovering.on("reconnect-scheduled", ({ attempt, delay }: { attempt: number; delay: number }) =>
      log.debug(`reconnect attempt ${attempt} in ${delay}ms`),
    );
    recovering.on("blocked", (reason: string) => log.warn(`broker blocked this connection: ${reason}`));
    recovering.on("unblocked", () => log.info("broker unblocked this connection"));
    recovering.on("error", () => {}); // every error also arrives as 'disconnect' or 'connect-failed'
    return this.finished.promise;
  }

  /** Graceful stop: no new deliveries, prefetched ones handed back, acks flushed, connection closed. */
  async stop(): Promise<void> {
    if (this.draining) return this.finished.promise;
    this.draining = true;
    const { log, drainTimeoutMs } = this.options;
    log.info("shutting down: cancelling the consumer and handing back prefetched requests");
    const timedOut = await Promise.race([this.drain().then(() => false), Bun.sleep(drainTimeoutMs).then(() => true)]);
    if (timedOut) log.warn(`drain did not finish within ${drainTimeoutMs}ms; closing anyway`);
    else log.info("stopped");
    this.finished.resolve();
    return this.finished.promise;
  }

  private async drain(): Promise<void> {
    const active = this.active;
    if (active) {
      // Deliveries that arrive until cancel-ok are nacked back to the queue in onDelivery.
      await active.channel.cancel(active.consumerTag).catch(() => {});
      // Closing the channel waits for close-ok, so every ack sent before it has reached the broker.
      await active.channel.close().catch(() => {});
    }
    await this.recovering?.close().catch(() => {});
  }

  private async setUpConsumer(connection: ChannelModel): Promise<void> {
    const { queue, queueKind, prefetch, log, broker } = this.options;
    coalesceWrites(connection); // replies and acks of one event-loop turn go out in one write
    const channel = await connection.createChannel();
    // amqplib emits 'error' only when the broker closes this channel and not the whole connection.
    channel.on("error", (error: Error) => {
      log.warn(`channel closed by broker: ${error.message}; opening a new one`);
      setImmediate(() => this.reopenChannel(connection, channel));
    });
    const declared = await adoptOrDeclareQueue(connection, channel, queue, queueKind);
    await channel.prefetch(prefetch);
    const { consumerTag } = await channel.consume(queue, (message) => this.onDelivery(connection, channel, message), {
      noAck: false,
    });
    this.active = { connection, channel, consumerTag };
    log.info(`connected to ${redactUrl(broker.url)}`);
    log.info(`consuming on queue '${queue}'${declared ? ` (declared it, ${queueKind})` : ""} with prefetch ${prefetch}`);
  }

  private reopenChannel(connection: ChannelModel, old: Channel): void {
    if (this.draining || this.active?.channel !== old) return;
    this.active = undefined;
    void old.close().catch(() => {});
    this.setUpConsumer(connection).catch((error: unknown) => {
      this.options.log.warn(`could not reopen the channel (${String(error)}); reconnecting`);
      void connection.close().catch(() => {});
    });
  }

  private onConnectFailed(error: Error): void {
    const typed = classifyBrokerError(error, this.options.broker.url);
    if (typed.kind === "refused") {
      this.draining = true;
      void this.recovering?.close();
      this.finished.reject(typed);
      return;
    }
    if (!this.outageLogged) {
      this.options.log.warn(`${typed.message}; retrying with backoff`);
      this.outageLogged = true;
    }
  }

  private onDelivery(connection: ChannelModel, channel: Channel, message: ConsumeMessage | null): void {
    if (message === null) {
      // The broker cancelled our consumer: the queue was deleted. Declare it again on a fresh channel.
      this.options.log.warn(`queue '${this.options.queue}' was deleted; declaring it again`);
      this.reopenChannel(connection, channel);
      return;
    }
    if (this.draining) {
      channel.nack(message, false, true);
      return;
    }
    const { replyTo, correlationId } = message.properties;
    if (typeof replyTo !== "string" || replyTo === "") {
      this.options.log.warn("request without reply_to cannot be answered; acked and dropped");
      channel.ack(message);
      return;
    }
    const deadline = requestDeadlineMs(message.properties.timestamp, message.properties.expiration);
    if (deadline !== undefined && Date.now() > deadline) {
      this.options.log.debug(`request ${String(correlationId)} expired before it was taken; not computed`);
      channel.ack(message);
      return;
    }
    const reply = this.answer(message.content);
    channel.publish("", replyTo, Buffer.from(reply.body), {
      correlationId,
      appId: APP_ID,
      ...reply.properties,
    });
    channel.ack(message);
  }

  private answer(body: Buffer): { body: string; properties: Record<string, unknown> } {
    const request = parseRequestBody(body, this.options.maxN);
    if (!request.ok) return errorReply(request.error);
    try {
      return { body: fibonacci(request.n).toString(), properties: { contentType: TEXT_PLAIN } };
    } catch (error) {
      return errorReply({ code: "INTERNAL", message: error instanceof Error ? error.message : String(error) });
    }
  }
}

function errorReply(error: ErrorBody): { body: string; properties: Record<string, unknown> } {
  return {
    body: encodeErrorBody(error),
    properties: { contentType: APPLICATION_JSON, type: ERROR_TYPE, headers: { [ERROR_CODE_HEADER]: error.code } },
  };
}
