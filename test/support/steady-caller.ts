/**
 * A caller that keeps a fixed number of requests in flight (a new one for each reply), on
 * amqplib alone, and remembers when each reply came: a test reads its calls/s over any window.
 */
import amqp, { type Channel, type ChannelModel } from "amqplib";

export class SteadyCaller {
  private readonly replyTimes: number[] = [];
  private nextId = 0;
  private running = true;

  private constructor(
    private readonly connection: ChannelModel,
    private readonly channel: Channel,
    private readonly queue: string,
    private readonly expiration: string | undefined,
  ) {}

  /** `expirationMs` as fibrpc call sets it; undefined: none, as the tutorials' clients send. */
  static async start(url: string, queue: string, options: { window?: number; expirationMs?: number } = {}): Promise<SteadyCaller> {
    const window = options.window ?? 16;
    const connection = await amqp.connect(url);
    connection.on("error", () => {});
    const channel = await connection.createChannel();
    channel.on("error", () => {});
    const caller = new SteadyCaller(connection, channel, queue, options.expirationMs === undefined ? undefined : String(options.expirationMs));
    await channel.consume(
      "amq.rabbitmq.reply-to",
      (message) => {
        if (message === null) return;
        caller.replyTimes.push(performance.now());
        caller.send();
      },
      { noAck: true },
    );
    for (let index = 0; index < window; index++) caller.send();
    return caller;
  }

  /** Replies per second between two `performance.now()` instants. */
  callsPerSecond(fromMs: number, toMs: number): number {
    const replies = this.replyTimes.filter((at) => at >= fromMs && at < toMs).length;
    return replies / ((toMs - fromMs) / 1000);
  }

  get replies(): number {
    return this.replyTimes.length;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.connection.close().catch(() => {});
  }

  private send(): void {
    if (!this.running) return;
    try {
      this.channel.sendToQueue(this.queue, Buffer.from("30"), {
        replyTo: "amq.rabbitmq.reply-to",
        correlationId: `steady-${this.nextId++}`,
        ...(this.expiration === undefined ? {} : { expiration: this.expiration }),
      });
    } catch {
      this.running = false; // the connection is gone (its node was killed): this caller is done
    }
  }
}
