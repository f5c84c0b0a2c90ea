/**
 * A caller written directly on amqplib (no fibrpc code): publishes requests with whatever
 * properties a test wants and collects the replies by correlation id, through direct reply-to.
 */
import amqp, { type ChannelModel, type ConfirmChannel, type ConsumeMessage, type Options } from "amqplib";
import { BROKER_URL } from "./broker.ts";

const DIRECT = "amq.rabbitmq.reply-to";

export class RawCaller {
  readonly replies = new Map<string, ConsumeMessage[]>();

  private constructor(
    private readonly connection: ChannelModel,
    private readonly channel: ConfirmChannel,
  ) {}

  static async open(url = BROKER_URL): Promise<RawCaller> {
    const connection = await amqp.connect(url);
    connection.on("error", () => {});
    const channel = await connection.createConfirmChannel();
    const caller = new RawCaller(connection, channel);
    await channel.consume(
      DIRECT,
      (message) => {
        if (message === null) return;
        const id = String(message.properties.correlationId);
        caller.replies.set(id, [...(caller.replies.get(id) ?? []), message]);
      },
      { noAck: true },
    );
    return caller;
  }

  /** Publishes one request (reply_to defaults to this caller's direct reply-to) and waits for the broker's confirm. */
  async send(queue: string, body: string, properties: Options.Publish = {}): Promise<void> {
    this.channel.sendToQueue(queue, Buffer.from(body), { replyTo: DIRECT, ...properties });
    await this.channel.waitForConfirms();
  }

  /** Publishes many at once, confirmed together. */
  async sendAll(queue: string, requests: readonly { body: string; properties?: Options.Publish }[]): Promise<void> {
    for (const { body, properties } of requests) this.channel.sendToQueue(queue, Buffer.from(body), { replyTo: DIRECT, ...properties });
    await this.channel.waitForConfirms();
  }

  reply(correlationId: string): ConsumeMessage | undefined {
    return this.replies.get(correlationId)?.[0];
  }

  async close(): Promise<void> {
    await this.connection.close().catch(() => {});
  }
}
