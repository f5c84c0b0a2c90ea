import type { ConsumeMessage } from "amqplib";
import { fibonacci } from "../fib.ts";
import { LogThrottle } from "../log-throttle.ts";
import { buildReply, type Reply } from "../protocol.ts";
import { PoisonLedger } from "./poison-ledger.ts";
import type { ReplyGuard } from "./reply-guard.ts";
import { ReplyNodeHealth } from "./reply-node-health.ts";
import type { ReplyOutcome, ReplyPublisher } from "./reply-publisher.ts";
import { triageRequest } from "./triage.ts";
import type { RequestOutcome, WorkerObserver } from "./worker-events.ts";
import type { WorkerLog } from "./worker-log.ts";

export interface RequestHandlerOptions {
  maxN: number;
  log: WorkerLog;
  observer: WorkerObserver;
}

/** At most one "dropped" line of a kind per this interval: a flood of bad requests must not flood the log. */
const DROP_LOG_INTERVAL_MS = 5000;

/** What the worker remembers across channels and connections: which requests and callers cost it one. */
export interface WorkerMemory {
  ledger: PoisonLedger;
  guard: ReplyGuard;
}

/** When a request came in, for its duration and queue-wait figures. */
interface Arrival {
  atMs: number;
  queueWaitSeconds: number | undefined;
}

/**
 * Decides what to do with one request and does it: answer it (a value or an error reply),
 * or drop it (acked without an answer) with a line in the log, and tell the observer.
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
    const arrival = arrivalOf(properties.timestamp);
    const key = PoisonLedger.keyOf(properties.correlationId, properties.replyTo);
    const decision = triageRequest(
      {
        body: request.content,
        replyTo: properties.replyTo,
        timestamp: properties.timestamp,
        expiration: properties.expiration,
        poisoned: this.ledger.isPoisoned(key),
      },
      Date.now(),
      this.options.maxN,
    );
    if (decision.action === "drop") {
      this.logDrop(decision.reason, decision.level, properties.correlationId);
      this.ledger.clear(key);
      this.publisher.ack(request);
      this.report(request, decision.why === "expired" ? "expired" : "dropped", arrival);
      return undefined;
    }
    const { replyTo } = decision;
    const answer = (): Promise<unknown> | undefined => {
      const outcome: Reply = decision.action === "compute" ? compute(decision.n) : { ok: false, error: decision.error };
      const sent = this.publisher
        .send(request, replyTo, buildReply(outcome, properties.correlationId))
        .then((result) => this.afterReply(request, result, outcome, key, arrival));
      // A suspect that took a channel down before is answered alone, so a second close can only be its fault.
      return this.ledger.isSuspect(key) ? sent : undefined;
    };
    const admitted = this.guard.admit(replyTo);
    if (admitted === true) return answer();
    if (admitted === false) return this.dropUndeliverable(request, replyTo, arrival);
    return admitted.then((send) => (send ? answer() : this.dropUndeliverable(request, replyTo, arrival)));
  }

  /** Not computed: its reply could not reach the caller, and publishing it would cost the connection. */
  private dropUndeliverable(request: ConsumeMessage, replyTo: string, arrival: Arrival): undefined {
    const node = ReplyNodeHealth.nodeOf(replyTo) ?? "unknown";
    this.logDrop(`the caller cannot be reached (its broker node ${node} is down, or it left); acked without an answer`, "warn", request.properties.correlationId);
    this.publisher.ack(request);
    this.report(request, "dropped", arrival);
    return undefined;
  }

  private afterReply(request: ConsumeMessage, result: ReplyOutcome, outcome: Reply, key: string, arrival: Arrival): void {
    if (result === "confirmed") {
      this.ledger.clear(key);
      this.report(request, outcome.ok ? "ok" : "error", arrival, outcome.ok ? undefined : outcome.error.code);
    } else if (result === "dropped") {
      this.options.log.warn(`the broker refused the reply twice; request ${describeCorrelationId(request.properties.correlationId)} dropped`);
    }
  }

  private logDrop(reason: string, level: "warn" | "debug", correlationId: unknown): void {
    const admitted = this.dropLogThrottle.admit(reason, Date.now());
    if (!admitted.show) return;
    const heldBack = admitted.heldBack > 0 ? `; ${admitted.heldBack} more like it since the last such line` : "";
    this.options.log[level](`${reason} (${describeCorrelationId(correlationId)})${heldBack}`);
  }

  private report(request: ConsumeMessage, outcome: RequestOutcome, arrival: Arrival, code?: string): void {
    const answered = outcome === "ok" || outcome === "error";
    this.options.observer.requestFinished({
      outcome,
      redelivered: request.fields.redelivered,
      ...(code === undefined ? {} : { code }),
      ...(answered ? { durationSeconds: (Date.now() - arrival.atMs) / 1000 } : {}),
      ...(arrival.queueWaitSeconds === undefined ? {} : { queueWaitSeconds: arrival.queueWaitSeconds }),
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

/** AMQP timestamps are whole seconds: the wait is known to a second, and never negative. */
function arrivalOf(timestampSeconds: unknown): Arrival {
  const atMs = Date.now();
  const queueWaitSeconds = typeof timestampSeconds === "number" && Number.isFinite(timestampSeconds) ? Math.max(0, atMs / 1000 - timestampSeconds) : undefined;
  return { atMs, queueWaitSeconds };
}
