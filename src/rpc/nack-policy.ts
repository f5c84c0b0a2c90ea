import type { QueueState } from "./broker.ts";
import { ABSENCE_GRACE_MS, presenceOf } from "./server-presence.ts";

/** Longest pause between two sends of a request the broker nacked. */
const MAX_RETRY_DELAY_MS = 1000;
/** Nacks from a queue that answers with real counts before the request may be reported refused. */
const NACKS_FROM_A_LIVE_QUEUE = 3;
/** ...and for how long the nacks must have gone on: longer than a leader election. */
const NACK_PATIENCE_MS = ABSENCE_GRACE_MS;

/**
 * After the broker nacked a request: how long to wait before sending it again (on a fresh link:
 * see RequestEngine), or undefined to report it refused. Pure. A quorum queue whose leader's node
 * dies under load nacks what a channel first published during the election (seen on a 3-node
 * cluster), and a link renewed during that election is nacked again, even once the queue answers
 * with real counts: nacks prove nothing until they have gone on longer than an election. A queue
 * that refuses for a reason of its own (full, with x-overflow reject-publish) nacks every send:
 * once three nacks span 1.5 s and the queue answers with real counts, the request is refused. While
 * its counts read 0/0 (an election going on, see server-presence.ts), or when it cannot be looked
 * at (`state` undefined: the connection is going, and a failover sends everything again anyway),
 * there is no telling, and the request goes again until its deadline.
 */
export function nackRetryDelayMs(state: QueueState | null | undefined, nacks: number, sinceFirstNackMs: number): number | undefined {
  const live = state !== undefined && presenceOf(state) !== "undecided";
  if (live && nacks >= NACKS_FROM_A_LIVE_QUEUE && sinceFirstNackMs >= NACK_PATIENCE_MS) return undefined;
  return Math.min(MAX_RETRY_DELAY_MS, 100 * 2 ** Math.max(0, nacks - 1));
}
