import { parseRequestBody, requestDeadlineMs, type ErrorBody } from "../protocol.ts";

/** What the worker needs to know about one delivery to decide what to do with it. */
export interface RequestFacts {
  body: Uint8Array;
  replyTo: unknown;
  timestamp: unknown;
  expiration: unknown;
  /** True when this request's reply has already killed a channel twice (see PoisonLedger). */
  poisoned: boolean;
}

/**
 * The decision for one request. Every branch ends in exactly one ack: `compute` and `reject`
 * after their reply is confirmed, `drop` at once. Nothing is ever requeued from here, so a
 * malformed request cannot loop.
 */
export type Triage =
  | { action: "compute"; replyTo: string; n: number }
  | { action: "reject"; replyTo: string; error: ErrorBody }
  | { action: "drop"; why: "no-reply-to" | "poisoned" | "expired"; level: "warn" | "debug"; reason: string };

export function triageRequest(facts: RequestFacts, nowMs: number, maxN: number): Triage {
  const { replyTo } = facts;
  if (typeof replyTo !== "string" || replyTo === "") {
    return { action: "drop", why: "no-reply-to", level: "warn", reason: "request without reply_to cannot be answered; acked and dropped" };
  }
  if (facts.poisoned) {
    return {
      action: "drop",
      why: "poisoned",
      level: "warn",
      reason: `replying to '${replyTo.slice(0, 80)}' made the broker close the channel twice; acked without an answer`,
    };
  }
  const deadline = requestDeadlineMs(facts.timestamp, facts.expiration);
  if (deadline !== undefined && nowMs > deadline) {
    return { action: "drop", why: "expired", level: "debug", reason: "request expired before it was taken; acked, not computed" };
  }
  const parsed = parseRequestBody(facts.body, maxN);
  return parsed.ok ? { action: "compute", replyTo, n: parsed.n } : { action: "reject", replyTo, error: parsed.error };
}
