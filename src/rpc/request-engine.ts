import type { Message } from "amqplib";
import { BrokerRefusedError, BrokerUnreachableError, FibrpcError, NoServerError, TimeoutError } from "../errors.ts";
import { formatDurationMs } from "../duration.ts";
import { requestProperties, type TraceHeaders } from "../protocol.ts";
import { MAX_TIMER_MS } from "../within.ts";
import { openConnection, type QueueState } from "./broker.ts";
import { Link, type LinkEvents, type LinkOptions } from "./link.ts";
import { awaitServer, noServerError, presenceOf, watchServer, type ServerCheck } from "./server-presence.ts";

export interface EngineOptions extends LinkOptions {
  queue: string;
  /** The caller's wait per request, for the timeout message (and the default deadline). */
  timeoutMs: number;
  /** Trace context for each request (from TRACEPARENT, or fresh); none when absent. */
  traceFor?: (() => TraceHeaders) | undefined;
}

export interface OpenOptions {
  /** Epoch ms by which the engine must be connected (and, with "wait", see a worker); none: each node gets the connect timeout. */
  deadlineMs?: number | undefined;
  serverCheck: ServerCheck;
  /** Keep checking, while requests wait, that a worker is still there (see watchServer). */
  watchServer?: boolean | undefined;
}

/** How a request ended: a reply (which may be an error reply: decode it) or a failure; with the trace context it carried. */
export type RequestOutcome = ({ ok: true; reply: Message } | { ok: false; error: FibrpcError }) & { trace?: TraceHeaders | undefined };

interface Pending {
  body: Buffer;
  deadlineMs: number;
  trace: TraceHeaders | undefined;
  settle: (outcome: RequestOutcome) => void;
}

/**
 * The one way fibrpc sends requests and gets their replies (call, `call -`, bench, health's
 * probe): pending requests keyed by correlation id, each with its deadline, replies routed back,
 * and every failure classified once. When the connection dies it reconnects, to another listed
 * node when there is one, and sends what is outstanding again with the same correlation ids
 * within the same deadlines: F(n) is idempotent, and a reply addressed to the dead connection
 * can never arrive (direct reply-to is at most once). Callback-driven, so the load generator
 * pays no promise per request; `request` wraps it in one.
 */
export class RequestEngine {
  private readonly pending = new Map<string, Pending>();
  private link: Link | undefined;
  private relinking = false;
  /** Once set, the engine can send nothing more: every request fails with it. */
  private failure: FibrpcError | undefined;
  /** Set by close(): like a failure for whoever still sends, but not one to report. */
  private closedWith: FibrpcError | undefined;
  /** Set while the watch finds no worker: requests fail at once instead of waiting out their time. */
  private serverGone: FibrpcError | undefined;
  private stopWatching: () => void = () => {};
  /** The look before sending could not tell an idle queue from an electing one: look again once something was sent. */
  private verifyAfterFirstSend = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerDueMs = Number.POSITIVE_INFINITY;
  private readonly idPrefix = `${crypto.randomUUID().slice(0, 8)}.`;
  private nextId = 0;

  private constructor(private readonly options: EngineOptions) {}

  /**
   * Connects to a listed node and, on the same connection and at the same time, looks for a
   * worker as `serverCheck` says. A connect that our own deadline cut short is a timeout.
   */
  static async open(options: EngineOptions, open: OpenOptions): Promise<RequestEngine> {
    const engine = new RequestEngine(options);
    const node = await openConnection(options.broker, { deadlineMs: open.deadlineMs }).catch((error: unknown) => {
      throw open.deadlineMs === undefined ? error : engine.ourTimeoutOr(error, open.deadlineMs, "connecting to the broker");
    });
    const [attached, checked] = await Promise.allSettled([
      Link.attach(node, options, engine.linkEvents()),
      awaitServer((queue) => Link.inspectOn(node, queue), options.queue, open.serverCheck, open.deadlineMs ?? Date.now() + options.timeoutMs),
    ]);
    if (attached.status === "rejected") {
      await node.connection.close().catch(() => {});
      throw attached.reason;
    }
    if (checked.status === "rejected") {
      const reason: unknown = checked.reason;
      // A stream has no consumer from fibrpc's side ever: say what it is rather than "no server".
      const explained = reason instanceof NoServerError ? await attached.value.explainAbsence(options.queue, reason) : reason;
      await attached.value.close();
      throw explained;
    }
    engine.link = attached.value;
    engine.verifyAfterFirstSend = open.serverCheck === "fail-fast" && checked.value === "undecided";
    if (open.watchServer) engine.watch();
    return engine;
  }

  /** Sends one request; `settle` is called exactly once, with the reply or the failure. */
  send(body: Buffer, settle: (outcome: RequestOutcome) => void, deadlineMs = Date.now() + this.options.timeoutMs): void {
    const refusal = this.closedWith ?? this.refusal;
    if (refusal !== undefined) {
      settle({ ok: false, error: refusal });
      return;
    }
    const correlationId = `${this.idPrefix}${this.nextId++}`;
    const request: Pending = { body, deadlineMs, trace: this.options.traceFor?.(), settle };
    this.pending.set(correlationId, request);
    this.armTimer(deadlineMs);
    if (this.link === undefined) return;
    this.publish(this.link, correlationId, request);
    if (this.verifyAfterFirstSend) {
      this.verifyAfterFirstSend = false;
      void this.verifyServer(this.link);
    }
  }

  request(body: Buffer, deadlineMs?: number): Promise<RequestOutcome> {
    return new Promise((resolve) => this.send(body, resolve, deadlineMs));
  }

  /** Why a request sent now would fail at once (the engine failed, or no worker is there), if it would. */
  get refusal(): FibrpcError | undefined {
    return this.failure ?? this.serverGone;
  }

  /** Why the engine can send nothing more, once that is so (a refusal, or no node left to fail over to). */
  get failed(): FibrpcError | undefined {
    return this.failure;
  }

  /** The node the engine is connected to now (a URL, password included: redact before showing). */
  get node(): string | undefined {
    return this.link?.url;
  }

  /** Whether the current connection sends the writes of one turn as one (asked for, and amqplib's internals found). */
  get coalescingWrites(): boolean {
    return this.link?.coalesced === true;
  }

  /** Requests sent and not settled yet. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** The queue's ready messages and consumers, or null when it does not exist; changes nothing. */
  async inspectQueue(queue = this.options.queue): Promise<QueueState | null> {
    if (this.link === undefined) throw this.failure ?? new BrokerUnreachableError("not connected to the broker");
    return this.link.inspectQueue(queue);
  }

  /** Whether the queue is a stream, which no fibrpc worker serves (false when it cannot be told). */
  async queueIsStream(queue = this.options.queue): Promise<boolean> {
    return this.link !== undefined && (await this.link.isStream(queue));
  }

  /** Fails what is still waiting (as interrupted, say) and closes the connection. */
  async close(reason: FibrpcError = new BrokerUnreachableError("connection closed by fibrpc")): Promise<void> {
    this.closedWith ??= reason;
    this.failEvery(reason);
    this.stopWatching();
    clearTimeout(this.timer);
    await this.link?.close();
  }

  private publish(link: Link, correlationId: string, request: Pending): void {
    const nowMs = Date.now();
    const properties = requestProperties({ correlationId, replyTo: link.replyTo, nowMs, deadlineMs: request.deadlineMs, trace: request.trace });
    link.publish(this.options.queue, request.body, properties);
  }

  private settle(correlationId: unknown, outcome: RequestOutcome): void {
    if (typeof correlationId !== "string") return;
    const request = this.pending.get(correlationId);
    if (request === undefined) return; // unknown, late or a duplicate: dropped (see the seed)
    this.pending.delete(correlationId);
    request.settle(request.trace === undefined ? outcome : { ...outcome, trace: request.trace });
  }

  private failEvery(error: FibrpcError): void {
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const request of waiting) request.settle({ ok: false, error });
  }

  /** From now on nothing can be sent: what waits and what comes fails with `error`. */
  private fail(error: FibrpcError): void {
    this.failure ??= error;
    this.failEvery(error);
  }

  private linkEvents(): LinkEvents {
    return {
      reply: (message) => this.settle(message.properties.correlationId, { ok: true, reply: message }),
      returned: (message) =>
        this.settle(message.properties.correlationId, {
          ok: false,
          error: new NoServerError(`no server: the broker returned the request as unroutable (no queue '${message.fields.routingKey}')`),
        }),
      rejected: (correlationId) =>
        this.settle(correlationId, {
          ok: false,
          error: new BrokerRefusedError(
            `the broker refused the request (publish nack): queue '${this.options.queue}' is full and rejects publishes, or is unavailable`,
            { code: "REJECTED" },
          ),
        }),
      failed: (error, failOver) => {
        if (this.closedWith !== undefined) return;
        if (failOver && this.failure === undefined) this.relink(error);
        else this.fail(error);
      },
    };
  }

  /**
   * The connection died: one walk over the listed nodes (the lost one last) within the latest
   * outstanding deadline, then every outstanding request is sent again on the new link. When no
   * node answers, what waits fails as unreachable.
   */
  private relink(cause: FibrpcError): void {
    const lost = this.link;
    this.link = undefined;
    if (this.relinking) return;
    this.relinking = true;
    let deadlineMs = Date.now();
    for (const request of this.pending.values()) deadlineMs = Math.max(deadlineMs, request.deadlineMs);
    Link.open(this.options, this.linkEvents(), { skip: lost?.url, deadlineMs }).then(
      (link) => {
        this.relinking = false;
        if (this.failure !== undefined || this.closedWith !== undefined) return void link.close();
        this.link = link;
        for (const [correlationId, request] of this.pending) this.publish(link, correlationId, request);
      },
      (error: unknown) => {
        this.relinking = false;
        const why = error instanceof FibrpcError ? error.message : String(error);
        this.fail(new BrokerUnreachableError(`${cause.message}; no listed node took over (${why})`, { cause }));
      },
    );
  }

  /**
   * Once the broker has confirmed what was sent, a live look at the queue shows it: waiting
   * with no consumer means no server (said at once, and to what is sent until one comes, as the
   * watch does); anything else leaves the requests to their replies, the watch and their deadlines.
   */
  private async verifyServer(link: Link): Promise<void> {
    const state = await link
      .confirmed()
      .then(() => link.inspectQueue(this.options.queue))
      .catch(() => undefined); // a lost link is reported on its own
    if (state === undefined || presenceOf(state) !== "absent") return;
    this.markServerGone(await link.explainAbsence(this.options.queue, noServerError(this.options.queue, state)));
  }

  private markServerGone(gone: FibrpcError | undefined): void {
    this.serverGone = gone;
    if (gone !== undefined) this.failEvery(gone);
  }

  private watch(): void {
    this.stopWatching = watchServer(
      (queue) => this.inspectQueue(queue),
      this.options.queue,
      () => this.pending.size > 0 || this.serverGone !== undefined,
      (gone) => {
        if (gone !== undefined && this.serverGone !== undefined) return; // already said, and explained
        if (gone === undefined || this.link === undefined) this.markServerGone(gone);
        else void this.link.explainAbsence(this.options.queue, gone).then((explained) => this.markServerGone(explained));
      },
    );
  }

  /** One timer, due at the earliest deadline; when it fires, every request past its deadline times out. */
  private armTimer(deadlineMs: number): void {
    if (deadlineMs >= this.timerDueMs) return;
    clearTimeout(this.timer);
    this.timerDueMs = deadlineMs;
    this.timer = setTimeout(() => this.expire(), Math.min(MAX_TIMER_MS, Math.max(0, deadlineMs - Date.now())));
  }

  private expire(): void {
    this.timerDueMs = Number.POSITIVE_INFINITY;
    const nowMs = Date.now();
    let nextDueMs = Number.POSITIVE_INFINITY;
    for (const [correlationId, request] of this.pending) {
      if (request.deadlineMs <= nowMs) {
        this.pending.delete(correlationId);
        request.settle({ ok: false, error: new TimeoutError(`timeout: no answer within ${formatDurationMs(this.options.timeoutMs)}`) });
      } else if (request.deadlineMs < nextDueMs) nextDueMs = request.deadlineMs;
    }
    if (nextDueMs !== Number.POSITIVE_INFINITY) this.armTimer(nextDueMs);
  }

  /** A connect that failed because our own deadline ran out is our timeout, not the broker's fault. */
  private ourTimeoutOr(error: unknown, deadlineMs: number, stage: string): unknown {
    if (!(error instanceof FibrpcError) || error.kind !== "unreachable" || Date.now() < deadlineMs) return error;
    return new TimeoutError(`timeout: no answer within ${formatDurationMs(this.options.timeoutMs)} (still ${stage})`, { cause: error });
  }
}
