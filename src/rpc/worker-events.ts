/**
 * What the worker tells whoever watches it (metrics, readiness probes), without knowing who
 * that is. Push for events (a request finished, a reconnect), pull for state (status()).
 */

/** How a request ended: answered, answered with an error reply, too old to compute, or not answerable. */
export type RequestOutcome = "ok" | "error" | "expired" | "dropped";

export interface FinishedRequest {
  outcome: RequestOutcome;
  /** The error reply's code (INVALID_ARGUMENT, OUT_OF_RANGE, INTERNAL), for outcome "error" only. */
  code?: string;
  /** From the delivery to the broker's confirm of the reply; for "ok" and "error" only. */
  durationSeconds?: number;
  /** From the request's AMQP timestamp to its delivery, when it carried one. */
  queueWaitSeconds?: number;
  /** The broker had delivered it before (to this worker or another). */
  redelivered: boolean;
}

export interface WorkerObserver {
  requestFinished(request: FinishedRequest): void;
  /** A connection was made again after one was lost. */
  reconnected(): void;
}

/** What the worker is doing: only "consuming" means it can take requests. */
export type WorkerState = "connecting" | "consuming" | "reconnecting" | "draining" | "stopped";

export interface WorkerStatus {
  state: WorkerState;
  /** The worker holds a connection to a broker node (it may not be consuming: starting, draining). */
  connected: boolean;
  /** Requests taken from the queue and not yet acked. */
  inFlight: number;
  prefetch: number;
}

export const IGNORE_WORKER_EVENTS: WorkerObserver = { requestFinished() {}, reconnected() {} };
