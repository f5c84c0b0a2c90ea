import type { Channel, ConfirmChannel, ConsumeMessage, Message } from "amqplib";
import type { FibrpcError } from "../errors.ts";
import { DIRECT_REPLY_TO, type RequestProperties } from "../protocol.ts";
import { within } from "../within.ts";
import { BrokerUnreachableError } from "../errors.ts";
import {
  classifyBrokerError,
  connectionLostError,
  inspectQueue,
  openConnection,
  type BrokerOptions,
  type NodeConnection,
  type QueueState,
  type WalkOptions,
} from "./broker.ts";
import { streamRefusal } from "./adopted-queue.ts";
import { probeIsStream } from "./queue-probe.ts";
import { coalesceWrites } from "./write-coalescing.ts";

export type ReplyQueueMode = "direct" | "exclusive";

/** What a link reports to its engine. Each loss is reported once, already classified. */
export interface LinkEvents {
  reply(message: ConsumeMessage): void;
  /** A `mandatory` request the broker could not route. */
  returned(message: Message): void;
  /** The broker would not take a request (a publish nack: a full queue that rejects publishes, or a queue in trouble). */
  rejected(correlationId: string): void;
  /**
   * Nothing more can be sent on this link. `failOver`: the connection itself is gone (node
   * down, network), so another node may take over; otherwise the broker refused something
   * (a channel closed with 403, a resource alarm) that another node would refuse too.
   */
  failed(error: FibrpcError, failOver: boolean): void;
}

export interface LinkOptions {
  broker: BrokerOptions;
  replyQueue: ReplyQueueMode;
  /** Gather the socket writes of one event-loop turn (the load generator's many small publishes). */
  coalesceWrites?: boolean | undefined;
}

/** The error amqplib gives a publish callback on a broker nack (lib/channel.js). */
const NACKED = "message nacked";

/** Closing is a courtesy: a blocked or dying broker may never answer it. */
const CLOSE_WAIT_MS = 1000;

/**
 * One connection to one node, one channel on it, and the consumer of that channel's replies:
 * what a request engine sends through. A link never recovers: when it fails, the engine opens
 * another (possibly to another node) and sends its outstanding requests again.
 */
export class Link {
  private failed = false;

  private constructor(
    private readonly node: NodeConnection,
    private readonly channel: ConfirmChannel,
    /** Where replies to this link's requests must be addressed. */
    readonly replyTo: string,
    private readonly events: LinkEvents,
    /** Whether the writes of one event-loop turn go out as one (false when amqplib's internals were not found). */
    readonly coalesced: boolean,
  ) {}

  /** The node this link is connected to, for messages that name it. */
  get url(): string {
    return this.node.url;
  }

  /** Connects to a node of the list (see openConnection), then attaches a link to it. */
  static async open(options: LinkOptions, events: LinkEvents, walk: WalkOptions): Promise<Link> {
    return Link.attach(await openConnection(options.broker, walk), options, events);
  }

  /**
   * Opens the channel and the reply consumer on a fresh connection, which the link then owns.
   * Separate from `open` so a caller can look at the queue on the same connection meanwhile.
   */
  static async attach(node: NodeConnection, options: LinkOptions, events: LinkEvents): Promise<Link> {
    const { connection, url } = node;
    const coalesced = options.coalesceWrites === true && coalesceWrites(connection);
    let link: Link | undefined;
    const fail = (error: FibrpcError, failOver: boolean): void => {
      if (link === undefined || link.failed) return;
      link.failed = true;
      events.failed(error, failOver);
    };
    connection.on("error", () => {}); // 'close' carries the same news
    connection.on("close", (error?: Error) => fail(connectionLostError(error, url), true));
    // A resource alarm (memory, disk) is cluster-wide: another node would block us the same way.
    connection.on("blocked", (reason: string) =>
      fail(
        new BrokerUnreachableError(
          `broker blocked the connection: a resource alarm is active on it (${reason}); requests cannot be published until an operator clears it`,
        ),
        false,
      ),
    );
    try {
      const channel = await connection.createConfirmChannel();
      channel.on("error", (error: unknown) => fail(classifyBrokerError(error, url), false));
      channel.on("return", (message: Message) => events.returned(message));
      const replyTo = await startReplyConsumer(channel, options.replyQueue, (message) => events.reply(message));
      link = new Link(node, channel, replyTo, events, coalesced);
      return link;
    } catch (error) {
      void connection.close().catch(() => {});
      throw classifyBrokerError(error, url);
    }
  }

  /**
   * Publishes a request to the default exchange with publisher confirms: a nack is reported as
   * `rejected`. False when the link can carry nothing more (its failure is reported separately).
   */
  publish(queue: string, body: Buffer, properties: RequestProperties): boolean {
    if (this.failed) return false;
    try {
      this.channel.publish("", queue, body, properties, (error: unknown) => {
        // amqplib fails unconfirmed publishes of a closed channel too; only a real nack is news here.
        if (error instanceof Error && error.message === NACKED) this.events.rejected(properties.correlationId);
      });
      return true;
    } catch {
      return false; // closed between the check and the call: its 'close' or 'error' follows
    }
  }

  /** The error to report for a queue without workers: `absent`, unless the queue is a stream, which no fibrpc worker serves. */
  async explainAbsence(queue: string, absent: FibrpcError): Promise<FibrpcError> {
    return (await this.isStream(queue)) ? streamRefusal(queue) : absent;
  }

  /** Whether the queue is a stream, when the broker lets us find out (it takes the configure permission). */
  async isStream(queue: string): Promise<boolean> {
    return (await probeIsStream(this.node.connection, queue).catch(() => undefined)) === true;
  }

  /** Resolves when the broker has confirmed every request published so far (rejects on a nack or a closed channel). */
  async confirmed(): Promise<void> {
    await this.channel.waitForConfirms();
  }

  /** The queue's ready messages and consumers, or null when it does not exist; on a channel of its own. */
  inspectQueue(queue: string): Promise<QueueState | null> {
    return Link.inspectOn(this.node, queue);
  }

  /** inspectQueue on a connection no link owns yet (a look at the queue while the link is being attached). */
  static async inspectOn(node: NodeConnection, queue: string): Promise<QueueState | null> {
    try {
      return await inspectQueue(node.connection, queue);
    } catch (error) {
      throw classifyBrokerError(error, node.url);
    }
  }

  /** Closes the connection, waiting at most a second for the broker's answer. */
  async close(): Promise<void> {
    this.failed = true;
    await within(
      this.node.connection.close().catch(() => {}),
      CLOSE_WAIT_MS,
    );
  }
}

async function startReplyConsumer(channel: Channel, mode: ReplyQueueMode, onReply: (message: ConsumeMessage) => void): Promise<string> {
  const deliver = (message: ConsumeMessage | null): void => {
    if (message !== null) onReply(message);
  };
  if (mode === "direct") {
    await channel.consume(DIRECT_REPLY_TO, deliver, { noAck: true });
    return DIRECT_REPLY_TO;
  }
  // Exclusive and auto-deleted: it dies with this connection, so nothing is left behind.
  const { queue } = await channel.assertQueue("", { exclusive: true, autoDelete: true, durable: false });
  await channel.consume(queue, deliver, { noAck: true });
  return queue;
}
