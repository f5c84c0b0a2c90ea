import type { TraceHeaders } from "../protocol.ts";
import { continueTrace, formatTraceparent } from "../trace.ts";

/**
 * The trace context of each request a caller sends: a span of its own in the trace that
 * TRACEPARENT/TRACESTATE name (how a shell script or CI job hands its context to a child
 * process), or a fresh trace per request when they are unset or malformed. Pure: the
 * environment is a parameter.
 */
export function requestTraces(env: Record<string, string | undefined>): () => TraceHeaders {
  const parent = { traceparent: env.TRACEPARENT, tracestate: env.TRACESTATE };
  return () => {
    const context = continueTrace(parent);
    return { traceparent: formatTraceparent(context), tracestate: context.tracestate };
  };
}
