import type { FibrpcError } from "../errors.ts";
import { ERROR_TYPE, decodeReply, type TraceHeaders } from "../protocol.ts";
import type { BrokerOptions } from "../rpc/broker.ts";
import { requestBody } from "../rpc/calls.ts";
import { RequestEngine, type RequestOutcome } from "../rpc/request-engine.ts";
import type { BenchTally, ExpectedAnswers } from "./tally.ts";

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
  /** The trace context of each request (see requestTraces). */
  traceFor?: (() => TraceHeaders) | undefined;
}

/**
 * Keeps `concurrency` Fibonacci requests in flight until the goal is met: each answer is
 * checked, counted and at once replaced by a new request on the same connection. The sending,
 * deadlines and failures are the request engine's (one per connection); this only keeps score.
 */
export class LoadGenerator {
  private readonly engines: RequestEngine[] = [];
  /** amqplib copies the body into its frame, so one buffer per n can be reused. */
  private readonly bodies = new Map<number, Buffer>();
  private readonly finished = Promise.withResolvers<void>();
  private issued = 0;
  private stopped = false;
  private startedAt = 0;
  private endedAt = 0;

  private constructor(private readonly options: LoadOptions) {}

  /** Connects (each connection to a listed node) and checks that someone consumes from the queue; nothing is sent yet. */
  static async connect(options: LoadOptions): Promise<LoadGenerator> {
    const generator = new LoadGenerator(options);
    const { broker, queue, timeoutMs } = options;
    try {
      for (let index = 0; index < options.connections; index++) {
        const engine = await RequestEngine.open(
          { broker, queue, timeoutMs, replyQueue: "direct", coalesceWrites: true, traceFor: options.traceFor },
          { deadlineMs: Date.now() + timeoutMs, serverCheck: index === 0 ? "fail-fast" : "none" },
        );
        generator.engines.push(engine);
      }
    } catch (error) {
      await generator.close();
      throw error;
    }
    return generator;
  }

  /** Runs to the goal (or to `stop()`); resolves once every request has settled. */
  async run(): Promise<void> {
    this.startedAt = performance.now();
    for (let slot = 0; slot < this.options.concurrency; slot++) {
      const engine = this.engines[slot % this.engines.length];
      if (engine) this.launch(engine);
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

  /** Why a connection could carry no more requests (refused, no node left, no worker), if one could not. */
  get failure(): FibrpcError | undefined {
    return this.engines.find((engine) => engine.refusal !== undefined)?.refusal;
  }

  /** False when write coalescing could not be applied (amqplib's internals moved): the figures are then not comparable. */
  get coalescingWrites(): boolean {
    return this.engines.every((engine) => engine.coalescingWrites);
  }

  async close(): Promise<void> {
    await Promise.all(this.engines.map((engine) => engine.close()));
  }

  private wantsMore(): boolean {
    if (this.stopped) return false;
    const { goal } = this.options;
    return "requests" in goal ? this.issued < goal.requests : performance.now() - this.startedAt < goal.durationMs;
  }

  private launch(engine: RequestEngine): void {
    // Once a connection refuses (failed for good, or no worker) the run is over: a refusing
    // engine would fail every new request at once, in a loop, and the others would wait in vain.
    if (this.failure !== undefined || !this.wantsMore()) return;
    this.issued++;
    const n = this.options.nextN();
    const sentAt = performance.now();
    engine.send(this.bodyOf(n), (outcome) => {
      this.record(n, outcome, performance.now() - sentAt);
      this.launch(engine);
      this.settleIfDone();
    });
  }

  private record(n: number, outcome: RequestOutcome, latencyMs: number): void {
    const { tally, expected } = this.options;
    if (!outcome.ok) {
      tally.recordFailure(outcome.error.code);
      return;
    }
    const { content, properties } = outcome.reply;
    if (properties.type !== ERROR_TYPE && expected.matches(n, content)) {
      tally.recordOk(latencyMs);
      return;
    }
    const reply = decodeReply(content, properties);
    tally.recordFailure(reply.ok ? "WRONG_ANSWER" : reply.error.code, latencyMs);
  }

  private bodyOf(n: number): Buffer {
    let body = this.bodies.get(n);
    if (body === undefined) {
      body = requestBody(n);
      this.bodies.set(n, body);
    }
    return body;
  }

  private settleIfDone(): void {
    if (this.endedAt !== 0 || this.startedAt === 0) return;
    const anyPending = this.engines.some((engine) => engine.inFlight > 0);
    const canIssue = this.failure === undefined && this.wantsMore();
    if (anyPending || canIssue) return;
    this.endedAt = performance.now();
    this.finished.resolve();
  }
}
