import { ServerReplyError, type FibrpcError } from "../errors.ts";
import { decodeReply } from "../protocol.ts";
import type { RequestEngine, RequestOutcome } from "./request-engine.ts";

/** F(n) as text, or why there is none; with the trace id the request carried, when it carried one. */
export type CallOutcome = ({ n: number; ok: true; value: string } | { n: number; ok: false; error: FibrpcError }) & { traceId?: string | undefined };

/** A request body: n in decimal ASCII, as every tutorial sends it. */
export function requestBody(n: number): Buffer {
  return Buffer.from(String(n));
}

/** What a request's outcome means to a caller who wants F(n): the digits, the server's error, or the failure. */
export function callOutcome(n: number, outcome: RequestOutcome): CallOutcome {
  const traced = outcome.trace === undefined ? {} : { traceId: outcome.trace.traceparent.split("-")[1] };
  if (!outcome.ok) return { n, ok: false, error: outcome.error, ...traced };
  const reply = decodeReply(outcome.reply.content, outcome.reply.properties);
  return reply.ok
    ? { n, ok: true, value: reply.value, ...traced }
    : { n, ok: false, error: new ServerReplyError(reply.error.code, reply.error.message), ...traced };
}

/** One request per n, all pipelined at once, each outcome in the order of `ns`. */
export function callMany(engine: RequestEngine, ns: readonly number[], deadlineMs: number): Promise<CallOutcome[]> {
  return Promise.all(ns.map(async (n) => callOutcome(n, await engine.request(requestBody(n), deadlineMs))));
}
