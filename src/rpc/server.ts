import type { ChannelModel, RecoveringChannelModel } from "amqplib";
import { redactUrl } from "../redact.ts";
import { CertificateRejectedError } from "../errors.ts";
import { formatDurationMs } from "../duration.ts";
import { classifyBrokerError, openRecoveringConnection, type BrokerOptions } from "./broker.ts";
import { ConsumerSession, type DrainReport } from "./consumer-session.ts";
import { PoisonLedger } from "./poison-ledger.ts";
import { coalesceWrites } from "./write-coalescing.ts";
import type { QueueKind } from "./queue.ts";
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

/** Reconnect backoff: quick first retries so a broker restart costs little, capped so an outage costs nothing. */
const RECOVERY = { initialDelay: 200, maxDelay: 3000, factor: 2, jitter: 0.2 } as const;

/**
 * The Fibonacci worker. The serving itself happens in a ConsumerSession (one per channel);
 * this class keeps one alive across broker restarts (amqplib's connection recovery, with a
 * new session on every connect), channel losses (a new session on the same connection) and
 * shuts it down gracefully. Logs one line per change of state, never one per retry.
 */
export class FibServer {
  private recovering: RecoveringChannelModel | undefined;
  private session: ConsumerSession | undefined;
  private readonly ledger = new PoisonLedger();
  private connectedOnce = false;
  private outageSince: number | undefined;
  private stopping = false;
  private state: WorkerState = "connecting";
  private readonly finished = Promise.withResolvers<void>();

  constructor(private readonly options: ServerOptions) {}

  /**
   * Connects and serves. Resolves when the worker has stopped (after `stop()`); rejects when it
   * cannot start (on the first connection, the broker refused our credentials or permissions,
   * or its TLS certificate did not verify).
   */
  async run(): Promise<void> {
    const { log, broker } = this.options;
    const recovering = await openRecoveringConnection(broker, {
      ...RECOVERY,
      setup: (connection: ChannelModel) => this.startSession(connection, "connected"),
    });
    this.recovering = recovering;
    recovering.on("disconnect", (error: Error) => {
      this.session = undefined;
      if (this.stopping) return;
      this.state = "reconnecting";
      this.outageSince = Date.now();
      log.warn(`connection lost: ${classifyBrokerError(error, broker.urls[0]).message}; reconnecting with backoff`);
    });
    recovering.on("connect-failed", (error: Error) => this.onConnectFailed(error));
    recovering.on("reconnect-scheduled", ({ attempt, delay }: { attempt: number; delay: number }) =>
      log.debug(`reconnect attempt ${attempt} in ${delay}ms`),
    );
    recovering.on("blocked", (reason: string) => log.warn(`broker blocked this connection (resource alarm: ${reason}); replies wait until it clears`));
    recovering.on("unblocked", () => log.info("broker unblocked this connection"));
    recovering.on("error", () => {}); // every error also arrives as 'disconnect' or 'connect-failed'
    return this.finished.promise;
  }

  /** What the worker is doing now, for readiness probes and gauges. */
  status(): WorkerStatus {
    return { state: this.state, inFlight: this.session?.inFlight ?? 0, prefetch: this.options.prefetch };
  }

  /** Graceful stop within the drain timeout; see ConsumerSession.drain. `reason` (e.g. the signal) is logged. */
  async stop(reason?: string): Promise<void> {
    if (this.stopping) return this.finished.promise;
    this.stopping = true;
    this.state = "draining";
    const { log, drainTimeoutMs } = this.options;
    log.info(`shutting down${reason === undefined ? "" : ` on ${reason}`}: consumer cancelled, finishing requests in flight`);
    const report = await within(this.drain(), drainTimeoutMs);
    if (report === undefined) log.warn(`drain did not finish within ${formatDurationMs(drainTimeoutMs)}; closing anyway (unacked requests go back to the queue)`);
    else log.info(`stopped: ${report.finished} in flight answered, ${report.handedBack} prefetched handed back to the queue`);
    this.state = "stopped";
    this.finished.resolve();
    return this.finished.promise;
  }

  private async drain(): Promise<DrainReport> {
    const report = (await this.session?.drain()) ?? { handedBack: 0, finished: 0 };
    await this.recovering?.close().catch(() => {});
    return report;
  }

  /** Runs on every (re)connect, inside amqplib's recovery: a failure here means "try again later". */
  private async startSession(connection: ChannelModel, why: "connected" | "reopened"): Promise<void> {
    const { queue, queueKind, prefetch, maxN, log } = this.options;
    coalesceWrites(connection); // replies and acks of one event-loop turn go out in one write (once per connection)
    const observer = this.options.observer ?? IGNORE_WORKER_EVENTS;
    const { session, declared } = await ConsumerSession.open(connection, { queue, queueKind, prefetch, maxN, log, observer }, this.ledger, (lost, reason) =>
      this.onSessionLost(connection, lost, reason),
    );
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
    const where = redactUrl(this.options.broker.urls[0]);
    if (this.outageSince === undefined) this.options.log.info(`connected to ${where}`);
    else {
      this.options.log.info(`reconnected to ${where} after ${formatDurationMs(Date.now() - this.outageSince)}`);
      this.options.observer?.reconnected();
    }
    this.connectedOnce = true;
    this.outageSince = undefined;
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
        this.options.log.warn(`could not open a new channel (${classifyBrokerError(error, this.options.broker.urls[0]).message}); reconnecting`);
        void connection.close().catch(() => {});
      });
    });
  }

  private onConnectFailed(error: Error): void {
    const typed = classifyBrokerError(error, this.options.broker.urls[0]);
    if ((typed.kind === "refused" || typed instanceof CertificateRejectedError) && !this.connectedOnce) {
      // Wrong credentials or an untrusted certificate at start-up are configuration errors, not
      // an outage to wait out. Once we have served, the same is retried: it may be a broker mid-change.
      this.stopping = true;
      void this.recovering?.close();
      this.finished.reject(typed);
      return;
    }
    if (this.outageSince !== undefined) return; // already said so; the next line is "reconnected"
    this.outageSince = Date.now();
    this.state = "reconnecting";
    this.options.log.warn(`${typed.message}; retrying with backoff`);
  }
}
