import type { FinishedRequest, RequestOutcome, WorkerObserver, WorkerStatus } from "../rpc/worker-events.ts";
import { BucketHistogram } from "./bucket-histogram.ts";
import type { MetricFamily, Sample } from "./exposition.ts";

/** Delivery to reply confirmed: 0.5 ms (a small n on a quiet worker) to 10 s (a huge n, or a broker under an alarm). */
export const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/**
 * AMQP timestamps are whole seconds, so a wait is known to a second at best (a request sent at
 * x.9 s and taken at once shows ~0.9 s): finer buckets would only measure where in its second a
 * request was sent. Up to 10 minutes, past any sensible --timeout.
 */
export const QUEUE_WAIT_BUCKETS = [1, 2, 5, 10, 30, 60, 120, 300, 600] as const;

/** The error codes a worker sends (protocol.ts); their series exist from the start, at 0, so rate() sees the first one. */
const KNOWN_ERROR_CODES = ["INVALID_ARGUMENT", "OUT_OF_RANGE", "INTERNAL"] as const;

interface OutcomeCount {
  outcome: RequestOutcome;
  code: string | undefined;
  value: number;
}

/**
 * The worker's metrics: counts what the worker reports (it is its observer) and reads its
 * status when scraped. Labels stay few and fixed: the queue, the outcome, the error code;
 * never n or a correlation id, which would make a series per request.
 */
export class WorkerMetrics implements WorkerObserver {
  private readonly outcomes = new Map<string, OutcomeCount>();
  private readonly duration = new BucketHistogram(DURATION_BUCKETS);
  private readonly queueWait = new BucketHistogram(QUEUE_WAIT_BUCKETS);
  private redelivered = 0;
  private reconnects = 0;

  constructor(
    private readonly queue: string,
    private readonly build: { version: string; commit: string },
  ) {
    for (const outcome of ["ok", "expired", "dropped"] as const) this.outcomes.set(outcome, { outcome, code: undefined, value: 0 });
    for (const code of KNOWN_ERROR_CODES) this.outcomes.set(outcomeKey("error", code), { outcome: "error", code, value: 0 });
  }

  requestFinished(request: FinishedRequest): void {
    this.countOutcome(request.outcome, request.code);
    if (request.redelivered) this.redelivered++;
    if (request.durationSeconds !== undefined) this.duration.observe(request.durationSeconds);
    if (request.queueWaitSeconds !== undefined) this.queueWait.observe(request.queueWaitSeconds);
  }

  reconnected(): void {
    this.reconnects++;
  }

  families(status: WorkerStatus): MetricFamily[] {
    const queue = { queue: this.queue };
    const requests: Sample[] = [...this.outcomes.values()].map(({ outcome, code, value }) => ({
      labels: code === undefined ? { ...queue, outcome } : { ...queue, outcome, code },
      value,
    }));
    const { connected } = status;
    return [
      {
        name: "fibrpc_requests",
        type: "counter",
        help: "Requests taken from the queue, by how they ended (ok, error with its code, expired, dropped).",
        samples: requests,
      },
      {
        name: "fibrpc_request_duration_seconds",
        type: "histogram",
        unit: "seconds",
        help: "From a request's delivery to the broker's confirm of its reply (answered requests only).",
        histograms: [this.duration.sample(queue)],
      },
      {
        name: "fibrpc_request_queue_wait_seconds",
        type: "histogram",
        unit: "seconds",
        help: "From a request's AMQP timestamp (whole seconds) to its delivery, for requests that carry one.",
        histograms: [this.queueWait.sample(queue)],
      },
      {
        name: "fibrpc_redelivered",
        type: "counter",
        help: "Requests the broker had delivered before (to this worker or another).",
        samples: [{ labels: queue, value: this.redelivered }],
      },
      { name: "fibrpc_reconnects", type: "counter", help: "Connections made again after one was lost.", samples: [{ value: this.reconnects }] },
      { name: "fibrpc_in_flight", type: "gauge", help: "Requests taken from the queue and not yet acked.", samples: [{ value: status.inFlight }] },
      { name: "fibrpc_prefetch", type: "gauge", help: "Requests the worker may hold unacked (--prefetch).", samples: [{ value: status.prefetch }] },
      {
        name: "fibrpc_broker_connected",
        type: "gauge",
        help: "1 while the worker holds a connection to a broker node.",
        samples: [{ value: connected ? 1 : 0 }],
      },
      {
        name: "fibrpc_draining",
        type: "gauge",
        help: "1 while the worker shuts down: no new requests, finishing those in flight.",
        samples: [{ value: status.state === "draining" ? 1 : 0 }],
      },
      {
        name: "fibrpc_build_info",
        type: "gauge",
        help: "The fibrpc build: always 1, the version and commit in the labels.",
        samples: [{ labels: this.build, value: 1 }],
      },
    ];
  }

  private countOutcome(outcome: RequestOutcome, code: string | undefined): void {
    const key = outcome === "error" ? outcomeKey(outcome, code) : outcome;
    const count = this.outcomes.get(key);
    if (count !== undefined) count.value++;
    // A code the worker did not send before: codes come from fibrpc's own error replies, a handful at most.
    else this.outcomes.set(key, { outcome, code: outcome === "error" ? code : undefined, value: 1 });
  }
}

function outcomeKey(outcome: RequestOutcome, code: string | undefined): string {
  return code === undefined ? outcome : `${outcome} ${code}`;
}
