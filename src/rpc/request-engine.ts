import type { Message } from "amqplib";
import { BrokerRefusedError, BrokerUnreachableError, FibrpcError, NoServerError, TimeoutError } from "../errors.ts";
import { formatDurationMs } from "../duration.ts";
import { requestProperties, type TraceHeaders } from "../protocol.ts";
import { ownTimeoutOr, type EngineOptions, type OpenOptions, type RequestOutcome } from "./engine-options.ts";
import { openConnection, type QueueState } from "./broker.ts";
import { Link, type LinkEvents } from "./link.ts";
import { nackRetryDelayMs } from "./nack-policy.ts";
import { PendingRequests } from "./pending-requests.ts";
import { ServerGuard } from "./server-guard.ts";
import { attachWithLook } from "./attach.ts";

export type { EngineOptions, OpenOptions, RequestOutcome } from "./engine-options.ts";

interface Pending {
  body: Buffer;
  deadlineMs: number;
  trace: TraceHeaders | undefined;
  settle: (outcome: RequestOutcome) => void;
  /** How many times the broker nacked it, and since when (see nackRetryDelayMs). */
  nacks: number;
  firstNackAtMs?: number | undefined;
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
  private readonly pending = new PendingRequests<Pending>((request) =>
    request.settle({ ok: false, error: new TimeoutError(`timeout: no answer within ${formatDurationMs(this.options.timeoutMs)}`), trace: request.trace }),
  );
  private link: Link | undefined;
  private relinking = false;
  /** Once set, the engine can send nothing more: every request fails with it. */
  private failure: FibrpcError | undefined;
  /** Set by close(): like a failure for whoever still sends, but not one to report. */
  private closedWith: FibrpcError | undefined;
  private readonly guard: ServerGuard;
  /** The look before sending could not tell an idle queue from an electing one: look again once something was sent. */
  private verifyAfterFirstSend = false;
  /** Set while a link is to be renewed after a nack (see onNack). */
  private renewal: ReturnType<typeof setTimeout> | undefined;
  private readonly idPrefix = `${crypto.randomUUID().slice(0, 8)}.`;
  private nextId = 0;

  private constructor(private readonly options: EngineOptions) {
    this.guard = new ServerGuard(
      options.queue,
      () => this.link,
      (error) => this.failEvery(error),
    );
  }

  /**
   * Connects to a listed node and, on the same connection and at the same time, looks for a
   * worker as `serverCheck` says. A connect that our own deadline cut short is a timeout; a node
   * that dies between accepting the connection and answering on it is left for the next one.
   */
  static async open(options: EngineOptions, open: OpenOptions): Promise<RequestEngine> {
    const engine = new RequestEngine(options);
    let skip: string | undefined;
    for (let tries = 1; ; tries++) {
      const node = await openConnection(options.broker, { deadlineMs: open.deadlineMs, skip }).catch((error: unknown) => {
        throw open.deadlineMs === undefined ? error : ownTimeoutOr(error, open.deadlineMs, options.timeoutMs);
      });
      try {
        const { link, presence } = await attachWithLook(node, options, engine.linkEvents(), open);
        engine.link = link;
        engine.verifyAfterFirstSend = open.serverCheck === "fail-fast" && presence === "undecided";
        break;
      } catch (error) {
        const lost = error instanceof FibrpcError && error.kind === "unreachable";
        if (!lost || tries >= options.broker.urls.length || Date.now() >= (open.deadlineMs ?? Number.POSITIVE_INFINITY)) throw error;
        skip = node.url;
      }
    }
    if (open.watchServer) engine.guard.watch(() => engine.pending.size > 0);
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
    const request: Pending = { body, deadlineMs, trace: this.options.traceFor?.(), settle, nacks: 0 };
    this.pending.add(correlationId, request);
    if (this.link === undefined) return;
    this.publish(this.link, correlationId, request);
    if (this.verifyAfterFirstSend) {
      this.verifyAfterFirstSend = false;
      void this.guard.verifyAfterConfirm(this.link);
    }
  }

  request(body: Buffer, deadlineMs?: number): Promise<RequestOutcome> {
    return new Promise((resolve) => this.send(body, resolve, deadlineMs));
  }

  /** Why a request sent now would fail at once (the engine failed, or no worker is there), if it would. */
  get refusal(): FibrpcError | undefined {
    return this.failure ?? this.guard.refusal;
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
    this.guard.stop();
    this.pending.stop();
    clearTimeout(this.renewal);
    await this.link?.close();
  }

  private publish(link: Link, correlationId: string, request: Pending): void {
    const nowMs = Date.now();
    const properties = requestProperties({ correlationId, replyTo: link.replyTo, nowMs, deadlineMs: request.deadlineMs, trace: request.trace });
    link.publish(this.options.queue, request.body, properties);
  }

  /** The reply (or the failure) of one request, with the trace it carried: one object per request, built here. */
  private settle(correlationId: unknown, result: Message | FibrpcError): void {
    if (typeof correlationId !== "string") return;
    const request = this.pending.take(correlationId);
    if (request === undefined) return; // unknown, late or a duplicate: dropped (see the seed)
    const { trace } = request;
    request.settle(result instanceof FibrpcError ? { ok: false, error: result, trace } : { ok: true, reply: result, trace });
  }

  private failEvery(error: FibrpcError): void {
    for (const request of this.pending.takeAll()) request.settle({ ok: false, error, trace: request.trace });
  }

  /** From now on nothing can be sent: what waits and what comes fails with `error`. */
  private fail(error: FibrpcError): void {
    this.failure ??= error;
    this.failEvery(error);
  }

  private linkEvents(): LinkEvents {
    return {
      reply: (message) => this.settle(message.properties.correlationId, message),
      returned: (message) =>
        this.settle(
          message.properties.correlationId,
          new NoServerError(`no server: the broker returned the request as unroutable (no queue '${message.fields.routingKey}')`),
        ),
      rejected: (correlationId) => void this.onNack(correlationId),
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
    void lost?.close(); // a link renewed after a nack still lives: replies to it can no longer be waited for
    if (this.relinking) return;
    this.relinking = true;
    const deadlineMs = this.pending.latestDeadlineMs(Date.now());
    Link.open(this.options, this.linkEvents(), { skip: lost?.url, deadlineMs }).then(
      (link) => {
        this.relinking = false;
        if (this.failure !== undefined || this.closedWith !== undefined) return void link.close();
        this.link = link;
        for (const [correlationId, request] of this.pending.entries()) this.publish(link, correlationId, request);
      },
      (error: unknown) => {
        this.relinking = false;
        const why = error instanceof FibrpcError ? error.message : String(error);
        this.fail(new BrokerUnreachableError(`${cause.message}; no listed node took over (${why})`, { cause }));
      },
    );
  }

  /**
   * The broker nacked a request. A channel that first published to a quorum queue while its
   * leader was being elected nacks every publish from then on (RabbitMQ 3.10, seen for 10 s and
   * more; a channel opened after the election is fine), so the request is not merely sent again:
   * after a short pause the link is renewed and everything outstanding goes out on a fresh one.
   * A queue that keeps refusing (full, with reject-publish) is reported refused: see nackRetryDelayMs.
   */
  private async onNack(correlationId: string): Promise<void> {
    const request = this.pending.get(correlationId);
    if (request === undefined) return;
    request.nacks++;
    request.firstNackAtMs ??= Date.now();
    const state = await this.link?.inspectQueue(this.options.queue).catch(() => undefined);
    if (this.pending.get(correlationId) !== request) return; // settled meanwhile
    const retryInMs = nackRetryDelayMs(state, request.nacks, Date.now() - request.firstNackAtMs);
    if (retryInMs === undefined) {
      const refused = `the broker refused the request (publish nack): queue '${this.options.queue}' is full and rejects publishes`;
      this.settle(correlationId, new BrokerRefusedError(refused, { code: "REJECTED" }));
      return;
    }
    this.renewal ??= setTimeout(() => {
      this.renewal = undefined;
      if (this.link !== undefined && this.pending.size > 0) this.relink(new BrokerRefusedError("the broker nacked a request"));
    }, retryInMs);
  }
}
