import type { ChannelModel } from "amqplib";
import { redactUrl } from "../redact.ts";
import { CertificateRejectedError, UsageError } from "../errors.ts";
import { formatDurationMs } from "../duration.ts";
import { classifyBrokerError, type BrokerOptions } from "./broker.ts";
import { abortConnection, connectToNode, openFailoverConnection, type FailoverConnection } from "./failover-connection.ts";
import { ReplyGuard, SideConnectionChecker } from "./reply-guard.ts";
import { ConsumerSession, type DrainReport } from "./consumer-session.ts";
import { PoisonLedger } from "./poison-ledger.ts";
import { coalesceWrites } from "./write-coalescing.ts";
import { checkAdoptedQueue } from "./adopted-queue.ts";
import { queueNameProblem, type QueueKind } from "./queue.ts";
import { classifySessionFailure } from "./session-errors.ts";
import { checkWritePermission } from "./write-permission.ts";
import type { WorkerLog } from "./worker-log.ts";
import { IGNORE_WORKER_EVENTS, type WorkerObserver, type WorkerState, type WorkerStatus } from "./worker-events.ts";
import { within } from "../within.ts";

export interface ServerOptions {
  broker: BrokerOptions;
  queue: string;
  queueKind: QueueKind;
  prefetch: number;
  maxN: number;
  drainTimeoutMs: number;
  log: WorkerLog;
  /** Told of every finished request and reconnect (metrics); nobody by default. */
  observer?: WorkerObserver | undefined;
}

/** Longest wait for a new connection's channel, queue and consumer before trying another node. */
const SESSION_OPEN_TIMEOUT_MS = 10_000;

/**
 * The Fibonacci worker. The serving itself happens in a ConsumerSession (one per channel);
 * this class keeps one alive across broker restarts and node deaths (a FailoverConnection,
 * with a new session on every connect, to whichever listed node answers), channel losses (a
 * new session on the same connection) and shuts it down gracefully. Logs one line per change
 * of state, never one per retry.
 */
export class FibServer {
  private failover: FailoverConnection | undefined;
  private session: ConsumerSession | undefined;
  private readonly ledger = new PoisonLedger();
  private readonly guard = new ReplyGuard(new SideConnectionChecker(() => connectToNode(this.options.broker, this.nodeUrl())));
  private connectedOnce = false;
  /** A connection is up (set when a session starts on it, cleared when it is lost). */
  private connected = false;
  private adoptedQueueChecked = false;
  private outageSince: number | undefined;
  /** Why the attempts of this outage failed, each said once (a refused permission is not a node down). */
  private readonly outageReasons = new Set<string>();
  private stopping = false;
  private state: WorkerState = "connecting";
  private readonly finished = Promise.withResolvers<void>();

  constructor(private readonly options: ServerOptions) {}

  /**
   * Connects and serves. Resolves when the worker has stopped (after `stop()`); rejects when it
   * cannot start: the queue name is not one, or on the first connection the broker refused our
   * credentials or a permission, its TLS certificate did not verify, or the queue is one that
   * cannot be served (a stream, another connection's exclusive queue).
   */
  async run(): Promise<void> {
    const { log, broker } = this.options;
    const badName = queueNameProblem(this.options.queue);
    if (badName !== undefined) throw new UsageError(badName);
    const failover = await openFailoverConnection(broker, {
      setup: (connection: ChannelModel) => this.startSession(connection, "connected"),
    });
    this.failover = failover;
    const { recovering } = failover;
    recovering.on("disconnect", (error: Error) => {
      this.connected = false;
      // 541: the broker closed the connection over something sent on it, most likely a reply.
      if (/\b541\b|INTERNAL.ERROR/.test(error.message)) this.session?.blameUnconfirmed();
      this.session = undefined;
      if (this.stopping) return;
      this.state = "reconnecting";
      this.outageSince = Date.now();
      log.warn(`connection lost: ${classifyBrokerError(error, failover.nodeUrl).message}; reconnecting with backoff${this.elsewhere()}`);
    });
    recovering.on("connect-failed", (error: Error) => this.onConnectFailed(error));
    recovering.on("reconnect-scheduled", ({ attempt, delay }: { attempt: number; delay: number }) => log.debug(`reconnect attempt ${attempt} in ${delay}ms`));
    recovering.on("blocked", (reason: string) => log.warn(`broker blocked this connection (resource alarm: ${reason}); replies wait until it clears`));
    recovering.on("unblocked", () => log.info("broker unblocked this connection"));
    recovering.on("error", () => {}); // every error also arrives as 'disconnect' or 'connect-failed'
    return this.finished.promise;
  }

  /** What the worker is doing now, for readiness probes and gauges. */
  status(): WorkerStatus {
    return { state: this.state, connected: this.connected, inFlight: this.session?.inFlight ?? 0, prefetch: this.options.prefetch };
  }

  /**
   * Graceful stop within the drain timeout; see ConsumerSession.drain. `reason` (e.g. the
   * signal's name) is named in the log line that starts the drain.
   */
  async stop(reason?: string): Promise<void> {
    // Stopping twice waits for the first stop; stopping a worker that could not start is a no-op.
    if (this.stopping) return this.finished.promise.catch(() => {});
    this.stopping = true;
    this.state = "draining";
    const { log, drainTimeoutMs } = this.options;
    log.info(`shutting down${reason === undefined ? "" : ` on ${reason}`}: consumer cancelled, finishing requests in flight`);
    const report = await within(this.drain(), drainTimeoutMs);
    if (report === undefined)
      log.warn(`drain did not finish within ${formatDurationMs(drainTimeoutMs)}; closing anyway (unacked requests go back to the queue)`);
    else log.info(`stopped: ${report.finished} in flight answered, ${report.handedBack} prefetched handed back to the queue`);
    this.state = "stopped";
    this.finished.resolve();
    return this.finished.promise;
  }

  private async drain(): Promise<DrainReport> {
    const report = (await this.session?.drain()) ?? { handedBack: 0, finished: 0 };
    await this.failover?.recovering.close().catch(() => {});
    await this.guard.close();
    return report;
  }

  /** Runs on every (re)connect, inside amqplib's recovery: a failure here means "try again later". */
  private async startSession(connection: ChannelModel, why: "connected" | "reopened"): Promise<void> {
    const { queue, queueKind, prefetch, maxN, log } = this.options;
    this.connected = true;
    // Replies and acks of one event-loop turn go out in one write (once per connection).
    if (!coalesceWrites(connection)) log.debug("write coalescing not applied: amqplib's socket is not where it was; each reply and ack is its own write");
    if (!this.adoptedQueueChecked) {
      await checkAdoptedQueue(connection, queue, queueKind, log);
      this.adoptedQueueChecked = true;
    }
    const nodeUrl = this.nodeUrl();
    await checkWritePermission(() => connectToNode(this.options.broker, nodeUrl));
    const observer = this.options.observer ?? IGNORE_WORKER_EVENTS;
    const memory = { ledger: this.ledger, guard: this.guard };
    const opening = ConsumerSession.open(connection, { queue, queueKind, prefetch, maxN, log, observer }, memory, (lost, reason) =>
      this.onSessionLost(connection, lost, reason),
    );
    const opened = await within(opening, SESSION_OPEN_TIMEOUT_MS);
    if (opened === undefined) {
      // A node that accepts the connection but never answers the consume (a stuck election, an
      // overloaded node) must not hold the worker: give up on it, recovery tries the next one.
      void opening.then(
        ({ session }) => session.abandon(),
        () => {},
      );
      abortConnection(connection);
      throw new Error(`no answer from the broker within ${formatDurationMs(SESSION_OPEN_TIMEOUT_MS)} while starting to consume`);
    }
    const { session, declared } = opened;
    if (this.stopping) {
      await session.drain();
      return;
    }
    this.session = session;
    this.state = "consuming";
    if (why === "connected") this.logConnected();
    log.info(`consuming on queue '${queue}'${declared ? ` (declared it, ${queueKind})` : ""} with prefetch ${prefetch}`);
  }

  private logConnected(): void {
    const where = redactUrl(this.nodeUrl());
    if (!this.connectedOnce) this.options.log.info(`connected to ${where}`);
    else {
      const after = this.outageSince === undefined ? "" : ` after ${formatDurationMs(Date.now() - this.outageSince)}`;
      this.options.log.info(`reconnected to ${where}${after}`);
      this.options.observer?.reconnected();
    }
    this.connectedOnce = true;
    this.outageSince = undefined;
    this.outageReasons.clear();
  }

  /** The channel died or the queue vanished, the connection lives: a new session on the same connection. */
  private onSessionLost(connection: ChannelModel, lost: ConsumerSession, reason: string): void {
    if (this.stopping || this.session !== lost) return;
    this.session = undefined;
    this.state = "reconnecting";
    lost.abandon();
    this.options.log.warn(`${reason}; opening a new channel`);
    setImmediate(() => {
      this.startSession(connection, "reopened").catch((error: unknown) => {
        const { error: typed } = classifySessionFailure(error, this.options.queue, this.nodeUrl());
        this.options.log.warn(`could not open a new channel (${typed.message}); reconnecting`);
        void connection.close().catch(() => {});
      });
    });
  }

  private onConnectFailed(error: Error): void {
    const { error: typed, retryable } = classifySessionFailure(error, this.options.queue, this.nodeUrl());
    this.options.log.debug(`attempt failed: ${typed.message}`);
    const configuration = !retryable || typed.kind === "refused" || typed instanceof CertificateRejectedError;
    if (configuration && !this.connectedOnce) {
      // A refused login or permission, an untrusted certificate, a queue that cannot be served:
      // at start-up these are configuration errors, not an outage to wait out. Once we have
      // served, the same is retried: it may be a broker mid-change.
      this.stopping = true;
      this.state = "stopped";
      void this.failover?.recovering.close();
      this.finished.reject(typed);
      return;
    }
    // One line per distinct reason, not per retry; the next line after them is "reconnected".
    if (this.outageReasons.has(typed.code) || (this.outageSince !== undefined && retryable)) return;
    this.outageReasons.add(typed.code);
    this.outageSince ??= Date.now();
    this.state = this.connectedOnce ? "reconnecting" : "connecting";
    this.options.log.warn(`${typed.message}; retrying with backoff${this.elsewhere()}`);
  }

  /** The node connected or being tried now. */
  private nodeUrl(): string {
    return this.failover?.nodeUrl ?? this.options.broker.urls[0];
  }

  private elsewhere(): string {
    const others = this.options.broker.urls.length - 1;
    return others === 0 ? "" : ` (trying the ${others === 1 ? "other listed node" : `${others} other listed nodes`} first)`;
  }
}
