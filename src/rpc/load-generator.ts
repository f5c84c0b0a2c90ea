import type { Channel, ChannelModel, ConsumeMessage } from "amqplib";
import type { FibrpcError } from "../errors.ts";
import { decodeReply, DIRECT_REPLY_TO, ERROR_TYPE } from "../protocol.ts";
import type { BenchTally, ExpectedAnswers } from "../bench/tally.ts";
import { classifyBrokerError, connectionLostError, inspectQueue, noServerError, openConnection, type BrokerOptions } from "./broker.ts";
import { coalesceWrites } from "./write-coalescing.ts";

const SWEEP_EVERY_MS = 100;

export type LoadGoal = { requests: number } | { durationMs: number };

export interface LoadOptions {
  broker: BrokerOptions;
  queue: string;
  /** Requests in flight at any time, spread over the connections. */
  concurrency: number;
  connections: number;
  goal: LoadGoal;
  timeoutMs: number;
  nextN: () => number;
  expected: ExpectedAnswers;
  tally: BenchTally;
}

interface InFlight {
  n: number;
  sentAt: number;
}

interface Lane {
  connection: ChannelModel;
  url: string;
  channel: Channel;
  /** Insertion order is send order, which lets the timeout sweep stop at the first young request. */
  pending: Map<string, InFlight>;
  alive: boolean;
}

/**
 * Keeps `concurrency` Fibonacci requests in flight until the goal is met: each answer is
 * checked, counted and immediately replaced by a new request on the same connection.
 * Callback-driven rather than one promise per call: the generator must not be the bottleneck.
 */
export class LoadGenerator {
  private readonly lanes: Lane[] = [];
  /** amqplib copies the body into its frame, so one buffer per n can be reused. */
  private readonly bodies = new Map<number, Buffer>();
  private readonly finished = Promise.withResolvers<void>();
  private readonly idPrefix = `${crypto.randomUUID().slice(0, 8)}.`;
  private nextId = 0;
  private issued = 0;
  private stopped = false;
  private startedAt = 0;
  private endedAt = 0;
  private lost: FibrpcError | undefined;
  private sweeper: ReturnType<typeof setInterval> | undefined;

  private constructor(private readonly options: LoadOptions) {}

  /** Connects and checks that someone consumes from the queue; nothing is sent yet. */
  static async connect(options: LoadOptions): Promise<LoadGenerator> {
    const generator = new LoadGenerator(options);
    try {
      for (let index = 0; index < options.connections; index++) generator.lanes.push(await generator.openLane());
      const state = await inspectQueue(generator.lanes[0]!.connection, options.queue).catch((error: unknown) => {
        throw classifyBrokerError(error, generator.lanes[0]!.url);
      });
      const noServer = noServerError(options.queue, state?.consumerCount ?? null);
      if (noServer) throw noServer;
    } catch (error) {
      await generator.close();
      throw error;
    }
    return generator;
  }

  /** Runs to the goal (or to `stop()`); resolves once every request has settled. */
  async run(): Promise<void> {
    this.startedAt = performance.now();
    this.sweeper = setInterval(() => this.sweepTimeouts(), SWEEP_EVERY_MS);
    for (let slot = 0; slot < this.options.concurrency; slot++) {
      const lane = this.lanes[slot % this.lanes.length];
      if (lane) this.launch(lane);
    }
    this.settleIfDone();
    await this.finished.promise;
  }

  /** Stops issuing new requests; the ones in flight still finish (or time out). */
  stop(): void {
    this.stopped = true;
    this.settleIfDone();
  }

  /** Time from the first request to the last answer, or to now while running. */
  get elapsedMs(): number {
    if (this.startedAt === 0) return 0;
    return (this.endedAt || performance.now()) - this.startedAt;
  }

  /** Set when a connection dropped during the run: its requests were counted as UNREACHABLE. */
  get connectionLost(): FibrpcError | undefined {
    return this.lost;
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    for (const lane of this.lanes) lane.alive = false;
    await Promise.all(this.lanes.map((lane) => lane.connection.close().catch(() => {})));
  }

  private async openLane(): Promise<Lane> {
    const { connection, url } = await openConnection(this.options.broker);
    coalesceWrites(connection);
    let lane: Lane | undefined;
    connection.on("error", () => {}); // 'close' carries the same news
    connection.on("close", (error?: Error) => {
      if (lane) this.onLaneClosed(lane, error);
    });
    try {
      const channel = await connection.createChannel();
      channel.on("error", () => {});
      const opened: Lane = { connection, url, channel, pending: new Map(), alive: true };
      await channel.consume(DIRECT_REPLY_TO, (message) => this.onReply(opened, message), { noAck: true });
      lane = opened;
      return opened;
    } catch (error) {
      await connection.close().catch(() => {});
      throw classifyBrokerError(error, url);
    }
  }

  private wantsMore(): boolean {
    if (this.stopped) return false;
    const { goal } = this.options;
    return "requests" in goal ? this.issued < goal.requests : performance.now() - this.startedAt < goal.durationMs;
  }

  private launch(lane: Lane): void {
    if (!lane.alive || !this.wantsMore()) return;
    this.issued++;
    const n = this.options.nextN();
    const correlationId = `${this.idPrefix}${this.nextId++}`;
    lane.pending.set(correlationId, { n, sentAt: performance.now() });
    lane.channel.publish("", this.options.queue, this.requestBody(n), { correlationId, replyTo: DIRECT_REPLY_TO });
  }

  private requestBody(n: number): Buffer {
    let body = this.bodies.get(n);
    if (body === undefined) {
      body = Buffer.from(String(n));
      this.bodies.set(n, body);
    }
    return body;
  }

  private onReply(lane: Lane, message: ConsumeMessage | null): void {
    if (message === null) return;
    const correlationId = message.properties.correlationId;
    const request = typeof correlationId === "string" ? lane.pending.get(correlationId) : undefined;
    if (request === undefined || typeof correlationId !== "string") return; // late (timed out) or a duplicate
    lane.pending.delete(correlationId);
    const latencyMs = performance.now() - request.sentAt;
    const { tally, expected } = this.options;
    if (message.properties.type !== ERROR_TYPE && expected.matches(request.n, message.content)) {
      tally.recordOk(latencyMs);
    } else {
      const reply = decodeReply(message.content, message.properties);
      tally.recordFailure(reply.ok ? "WRONG_ANSWER" : reply.error.code, latencyMs);
    }
    this.launch(lane);
    this.settleIfDone();
  }

  private sweepTimeouts(): void {
    const oldest = performance.now() - this.options.timeoutMs;
    for (const lane of this.lanes) {
      let expired = 0;
      for (const [correlationId, request] of lane.pending) {
        if (request.sentAt > oldest) break;
        lane.pending.delete(correlationId);
        this.options.tally.recordFailure("TIMEOUT");
        expired++;
      }
      for (let index = 0; index < expired; index++) this.launch(lane);
    }
    this.settleIfDone();
  }

  private onLaneClosed(lane: Lane, error: Error | undefined): void {
    if (!lane.alive) return;
    lane.alive = false;
    this.lost ??= connectionLostError(error, lane.url);
    for (let index = 0; index < lane.pending.size; index++) this.options.tally.recordFailure("UNREACHABLE");
    lane.pending.clear();
    this.settleIfDone();
  }

  private settleIfDone(): void {
    if (this.endedAt !== 0 || this.startedAt === 0) return;
    const anyPending = this.lanes.some((lane) => lane.pending.size > 0);
    const canIssue = this.lanes.some((lane) => lane.alive) && this.wantsMore();
    if (anyPending || canIssue) return;
    this.endedAt = performance.now();
    clearInterval(this.sweeper);
    this.finished.resolve();
  }
}
