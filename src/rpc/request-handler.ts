import type { ConsumeMessage } from "amqplib";
import { fibonacci } from "../fib.ts";
import { LogThrottle } from "../log-throttle.ts";
import { buildReply, type Reply } from "../protocol.ts";
import { continueTrace, traceHeaders, type TraceContext } from "../trace.ts";
import { PoisonLedger } from "./poison-ledger.ts";
import type { ReplyGuard } from "./reply-guard.ts";
import { ReplyNodeHealth } from "./reply-node-health.ts";
import type { ReplyOutcome, ReplyPublisher } from "./reply-publisher.ts";
import { triageRequest } from "./triage.ts";
import type { RequestOutcome, WorkerObserver } from "./worker-events.ts";
import type { LogFields, WorkerLog } from "./worker-log.ts";

export interface RequestHandlerOptions {
  queue: string;
  maxN: number;
  log: WorkerLog;
  observer: WorkerObserver;
}

/** What the worker remembers across channels and connections: which requests and callers cost it one. */
export interface WorkerMemory {
  ledger: PoisonLedger;
  guard: ReplyGuard;
}

/** At most one "dropped" line of a kind per this interval: a flood of bad requests must not flood the log. */
const DROP_LOG_INTERVAL_MS = 5000;

/** One request on its way through: what it is, when it came, and the span that handles it. */
interface InFlight {
  request: ConsumeMessage;
  /** Its identity across redeliveries, for the PoisonLedger. */
  key: string;
  /** Epoch ms, for the deadline and the queue wait (AMQP timestamps are epoch seconds). */
  arrivedAtMs: number;
  /** Monotonic ms, for the duration: a histogram whose first bucket is 0.5 ms needs better than Date.now(). */
  startedAt: number;
  queueWaitSeconds: number | undefined;
  trace: TraceContext;
}

/**
 * Decides what to do with one request and does it: answer it (a value or an error reply,
 * carrying the caller's trace on with a span of ours), or drop it (acked without an answer)
 * with a line in the log; and tells the observer.
 */
export class RequestHandler {
  private readonly dropLogThrottle = new LogThrottle(DROP_LOG_INTERVAL_MS);
  private readonly ledger: PoisonLedger;
  private readonly guard: ReplyGuard;

  constructor(
    private readonly publisher: ReplyPublisher,
    memory: WorkerMemory,
    private readonly options: RequestHandlerOptions,
  ) {
    this.ledger = memory.ledger;
    this.guard = memory.guard;
  }

  /** Answers or drops one request. Returns a promise to wait on when it must be answered on its own. */
  handle(request: ConsumeMessage): Promise<unknown> | undefined {
    const { properties } = request;
    const arrivedAtMs = Date.now();
    const timestamp: unknown = properties.timestamp;
    // AMQP timestamps are whole seconds: the wait is known to a second, and never negative.
    const queueWaitSeconds = typeof timestamp === "number" && Number.isFinite(timestamp) ? Math.max(0, arrivedAtMs / 1000 - timestamp) : undefined;
    const key = PoisonLedger.keyOf(properties.correlationId, properties.replyTo);
    const current: InFlight = { request, key, arrivedAtMs, startedAt: performance.now(), queueWaitSeconds, trace: continueTrace(properties.headers) };
    const decision = triageRequest(
      { body: request.content, replyTo: properties.replyTo, timestamp, expiration: properties.expiration, poisoned: this.ledger.isPoisoned(key) },
      arrivedAtMs,
      this.options.maxN,
    );
    if (decision.action === "drop") {
      this.logDrop(current, decision.reason, decision.level);
      this.ledger.clear(key);
      this.settleUnanswered(current, decision.why === "expired" ? "expired" : "dropped");
      return undefined;
    }
    const { replyTo } = decision;
    const answer = (): Promise<unknown> | undefined => {
      const outcome: Reply = decision.action === "compute" ? compute(decision.n) : { ok: false, error: decision.error };
      const sent = this.publisher
        .send(request, replyTo, buildReply(outcome, properties.correlationId, traceHeaders(current.trace)))
        .then((result) => this.afterReply(current, result, outcome, decision.action === "compute" ? decision.n : undefined));
      // A suspect that took a channel down before is answered alone, so a second close can only be its fault.
      return this.ledger.isSuspect(key) ? sent : undefined;
    };
    const admitted = this.guard.admit(replyTo);
    if (admitted === true) return answer();
    if (admitted === false) return this.dropUndeliverable(current, replyTo);
    return admitted.then((send) => (send ? answer() : this.dropUndeliverable(current, replyTo)));
  }

  /** Not computed: its reply could not reach the caller, and publishing it would cost the connection. */
  private dropUndeliverable(current: InFlight, replyTo: string): undefined {
    const node = ReplyNodeHealth.nodeOf(replyTo);
    const where = node === undefined ? "its reply address names no running broker node" : `its broker node ${node} is down`;
    this.logDrop(current, `the caller cannot be reached (${where}, or it left); acked without an answer`, "warn");
    this.settleUnanswered(current, "dropped");
    return undefined;
  }

  private settleUnanswered(current: InFlight, outcome: "dropped" | "expired"): void {
    this.publisher.ack(current.request);
    this.report(current, outcome);
  }

  private afterReply(current: InFlight, result: ReplyOutcome, outcome: Reply, n: number | undefined): void {
    const { log } = this.options;
    const about = describeCorrelationId(current.request.properties.correlationId);
    if (result === "confirmed") {
      this.ledger.clear(current.key);
      this.report(current, outcome.ok ? "ok" : "error", outcome.ok ? undefined : outcome.error.code);
      if (!outcome.ok && outcome.error.code === "INTERNAL") log.warn(`answered with INTERNAL: ${outcome.error.message} (${about})`, this.fieldsOf(current));
      else if (log.debugEnabled !== false) {
        const what = outcome.ok ? `answered n=${n ?? "?"}` : `answered with ${outcome.error.code}: ${outcome.error.message}`;
        log.debug(`${what} (${about}) in ${(performance.now() - current.startedAt).toFixed(1)} ms`, this.fieldsOf(current));
      }
    } else if (result === "dropped") {
      log.warn(`the broker refused the reply twice; request dropped (${about})`, this.fieldsOf(current));
    }
  }

  private logDrop(current: InFlight, reason: string, level: "warn" | "debug"): void {
    const admitted = this.dropLogThrottle.admit(reason, Date.now());
    if (!admitted.show) return;
    const heldBack = admitted.heldBack > 0 ? `; ${admitted.heldBack} more like it since the last such line` : "";
    this.options.log[level](`${reason} (${describeCorrelationId(current.request.properties.correlationId)})${heldBack}`, this.fieldsOf(current));
  }

  /** The request's trace and messaging facts, named as OpenTelemetry's messaging conventions name them. */
  private fieldsOf(current: InFlight): LogFields {
    const correlationId: unknown = current.request.properties.correlationId;
    return {
      trace_id: current.trace.traceId,
      span_id: current.trace.spanId,
      span_name: `process ${this.options.queue}`,
      "messaging.system": "rabbitmq",
      "messaging.operation": "process",
      "messaging.destination.name": this.options.queue,
      ...(typeof correlationId === "string" && correlationId !== "" ? { "messaging.message.conversation_id": correlationId } : {}),
    };
  }

  private report(current: InFlight, outcome: RequestOutcome, code?: string): void {
    const answered = outcome === "ok" || outcome === "error";
    this.options.observer.requestFinished({
      outcome,
      redelivered: current.request.fields.redelivered,
      ...(code === undefined ? {} : { code }),
      ...(answered ? { durationSeconds: (performance.now() - current.startedAt) / 1000 } : {}),
      ...(current.queueWaitSeconds === undefined ? {} : { queueWaitSeconds: current.queueWaitSeconds }),
    });
  }
}

function compute(n: number): Reply {
  try {
    return { ok: true, value: fibonacci(n).toString() };
  } catch (error) {
    return { ok: false, error: { code: "INTERNAL", message: error instanceof Error ? error.message : String(error) } };
  }
}

/** For log lines: "correlation id abc", or that there is none (not "undefined"). */
export function describeCorrelationId(correlationId: unknown): string {
  return typeof correlationId === "string" && correlationId !== "" ? `correlation id ${correlationId}` : "no correlation id";
}
