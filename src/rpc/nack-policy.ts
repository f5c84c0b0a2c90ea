import type { QueueState } from "./broker.ts";
import { presenceOf } from "./server-presence.ts";

/** Longest pause between two sends of a request the broker nacked. */
const MAX_RETRY_DELAY_MS = 1000;
/** Nacks from a queue that answers with real counts before the request is reported refused. */
const NACKS_FROM_A_LIVE_QUEUE = 3;

/**
 * After the broker nacked a request: how long to wait before sending it again, or undefined to
 * report it refused. Pure. A quorum queue whose leader's node dies under load nacks some of what
 * it was committing (seen on a 3-node cluster, callers on the surviving nodes), and the nack may
 * come just after the new leader took over: one nack proves nothing. A queue that refuses for a
 * reason of its own (full, with x-overflow reject-publish) nacks every send: after the third
 * nack from a queue that answers with real counts, the request is refused (about 300 ms after
 * the first). While its counts read 0/0 (an election going on, see server-presence.ts), or when
 * it cannot be looked at (`state` undefined: the connection is going, and a failover sends
 * everything again anyway), there is no telling, and the request goes again until its deadline.
 */
export function nackRetryDelayMs(state: QueueState | null | undefined, nacks: number): number | undefined {
  const live = state !== undefined && presenceOf(state) !== "undecided";
  if (live && nacks >= NACKS_FROM_A_LIVE_QUEUE) return undefined;
  return Math.min(MAX_RETRY_DELAY_MS, 100 * 2 ** Math.max(0, nacks - 1));
}
