import type { Message } from "amqplib";
import { FibrpcError, TimeoutError } from "../errors.ts";
import { formatDurationMs } from "../duration.ts";
import type { TraceHeaders } from "../protocol.ts";
import type { LinkOptions } from "./link.ts";
import type { ServerCheck } from "./server-presence.ts";

/** What a request engine is for: the queue, the wait per request, the broker (and how to reach it). */
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

/** A connect that failed because our own deadline ran out is our timeout, not the broker's fault. */
export function ownTimeoutOr(error: unknown, deadlineMs: number, timeoutMs: number): unknown {
  if (!(error instanceof FibrpcError) || error.kind !== "unreachable" || Date.now() < deadlineMs) return error;
  return new TimeoutError(`timeout: no answer within ${formatDurationMs(timeoutMs)} (still connecting to the broker)`, { cause: error });
}
