/**
 * A small load driver for fault tests: several clients, each on its own connection with direct
 * reply-to, publish numbered requests at a steady pace and count every reply by correlation id,
 * so a test can tell answered, wrong, missing and duplicated (on the wire) apart.
 */
import amqp, { type Channel, type ChannelModel, type ConsumeMessage } from "amqplib";
import { fibonacci } from "../../src/fib.ts";
import { eventually } from "./broker.ts";

export interface LoadOptions {
  url: string;
  queue: string;
  clients: number;
  requestsPerClient: number;
  /** Requests each client publishes every 10 ms. */
  perTick: number;
  /** The n of request i (default: 200 values in 40000..100000, about a millisecond of work each, so a backlog builds). */
  nOf?: (index: number) => number;
}

export interface LoadReport {
  sent: number;
  answered: number;
  wrong: number;
  /** Requests with no reply at all. */
  lost: number;
  /** Extra replies to already-answered requests, as the wire delivered them (a caller's router drops these). */
  wireDuplicates: number;
}

const known = new Map<number, string>();

/** F(n) as text, computed once per n: the driver checks thousands of answers over a few hundred distinct n. */
function fibonacciText(n: number): string {
  let text = known.get(n);
  if (text === undefined) {
    text = fibonacci(n).toString();
    known.set(n, text);
  }
  return text;
}

interface Expected {
  value: string;
  replies: number;
  ok: boolean;
}

class LoadClient {
  readonly expected = new Map<string, Expected>();
  sent = 0;
  private connection: ChannelModel | undefined;
  private channel: Channel | undefined;
  private readonly sentinels = new Map<string, () => void>();

  constructor(
    private readonly id: number,
    private readonly options: LoadOptions,
  ) {}

  async start(): Promise<void> {
    const connection = await amqp.connect(this.options.url);
    connection.on("error", () => {});
    this.connection = connection;
    const channel = await connection.createChannel();
    channel.on("error", () => {});
    await channel.consume("amq.rabbitmq.reply-to", (message) => this.onReply(message), { noAck: true });
    this.channel = channel;
  }

  /** Publishes everything, `perTick` at a time; stops early (quietly) if the connection dies. */
  async publishAll(): Promise<void> {
    const { requestsPerClient, perTick, queue } = this.options;
    const nOf = this.options.nOf ?? ((index: number) => 40_000 + ((index * 7919) % 200) * 300);
    for (let index = 0; index < requestsPerClient; index++) {
      const n = nOf(index);
      const correlationId = `c${this.id}-${index}`;
      try {
        this.channel?.publish("", queue, Buffer.from(String(n)), { correlationId, replyTo: "amq.rabbitmq.reply-to" });
      } catch {
        return;
      }
      this.expected.set(correlationId, { value: fibonacciText(n), replies: 0, ok: false });
      this.sent++;
      if ((index + 1) % perTick === 0) await Bun.sleep(10);
    }
  }

  /**
   * Sends one request outside the tally and waits for its answer. Replies from one worker's
   * channel reach this consumer in the order they were published, so once it is back, every
   * reply published before it (a late duplicate included) has arrived too.
   */
  async roundTrip(timeoutMs: number): Promise<boolean> {
    const correlationId = `sentinel-${this.id}-${crypto.randomUUID()}`;
    const answered = Promise.withResolvers<boolean>();
    this.sentinels.set(correlationId, () => answered.resolve(true));
    const timer = setTimeout(() => answered.resolve(false), timeoutMs);
    this.channel?.publish("", this.options.queue, Buffer.from("1"), { correlationId, replyTo: "amq.rabbitmq.reply-to" });
    const result = await answered.promise;
    clearTimeout(timer);
    this.sentinels.delete(correlationId);
    return result;
  }

  private onReply(message: ConsumeMessage | null): void {
    if (message === null) return;
    this.sentinels.get(String(message.properties.correlationId))?.();
    const entry = this.expected.get(String(message.properties.correlationId));
    if (entry === undefined) return;
    entry.replies++;
    if (entry.replies === 1) entry.ok = message.properties.type !== "error" && message.content.toString() === entry.value;
  }

  async close(): Promise<void> {
    await this.connection?.close().catch(() => {});
  }
}

export class LoadDriver {
  private constructor(
    private readonly clients: LoadClient[],
    /** Resolves when every client has published all it could. */
    readonly published: Promise<void>,
  ) {}

  static async start(options: LoadOptions): Promise<LoadDriver> {
    const clients = Array.from({ length: options.clients }, (_unused, id) => new LoadClient(id, options));
    await Promise.all(clients.map((client) => client.start()));
    const published = Promise.all(clients.map((client) => client.publishAll())).then(() => undefined);
    return new LoadDriver(clients, published);
  }

  get answered(): number {
    return this.entries().filter((entry) => entry.replies > 0).length;
  }

  /**
   * Waits until every sent request has a reply (or `timeoutMs` passes), then for one sentinel
   * round trip per client: the sentinel queues up behind every request still to be answered
   * (redelivered ones included), so once it is back every duplicate on its way has arrived.
   * Then closes the clients and counts.
   */
  async finish(timeoutMs: number): Promise<LoadReport> {
    await this.published;
    const deadline = Date.now() + timeoutMs;
    await eventually(() => this.entries().every((entry) => entry.replies > 0), timeoutMs, 100);
    await Promise.all(this.clients.map((client) => client.roundTrip(Math.max(1000, deadline - Date.now()))));
    await Promise.all(this.clients.map((client) => client.close()));
    const entries = this.entries();
    return {
      sent: this.clients.reduce((sum, client) => sum + client.sent, 0),
      answered: entries.filter((entry) => entry.replies > 0).length,
      wrong: entries.filter((entry) => entry.replies > 0 && !entry.ok).length,
      lost: entries.filter((entry) => entry.replies === 0).length,
      wireDuplicates: entries.reduce((sum, entry) => sum + Math.max(0, entry.replies - 1), 0),
    };
  }

  /** Closes the clients without counting: for cleaning up after a failed test. */
  async close(): Promise<void> {
    await Promise.all(this.clients.map((client) => client.close()));
  }

  private entries(): Expected[] {
    return this.clients.flatMap((client) => [...client.expected.values()]);
  }
}
