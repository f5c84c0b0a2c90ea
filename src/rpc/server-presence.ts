import { NoServerError } from "../errors.ts";
import { formatDurationMs } from "../duration.ts";
import type { QueueState } from "./broker.ts";

/** Looks at the queue without changing it: its state, or null when it does not exist. */
export type InspectQueue = (queue: string) => Promise<QueueState | null>;

/**
 * What to do before sending when nobody may be consuming: fail at once with no-server (a script
 * learns in milliseconds that no worker runs), wait for a worker up to the deadline, or not look.
 */
export type ServerCheck = "fail-fast" | "wait" | "none";

/** How often a waiting caller looks for a worker, and how often a waiting request checks that one is still there. */
const POLL_MS = 100;
const WATCH_MS = 250;

/**
 * How long a queue may look workerless before we say so where nothing else can tell: a worker
 * that restarts is briefly gone, and a quorum queue whose leader's node just died reports 0
 * messages and 0 consumers until a new leader is elected, workers attached all along (0.26-0.58 s
 * after kill -9 on a 3-node cluster, docs/cluster.md). Neither is "no server".
 */
export const ABSENCE_GRACE_MS = 1500;

/** What one look at the queue says: a worker is there, none is for sure, or it cannot be told yet. */
export type Presence = "present" | "absent" | "undecided";

/**
 * Pure. No queue, or 0 consumers with messages waiting (so the queue's leader answered), is a
 * sure absence; 0 consumers and 0 messages is what a quorum queue reports whose leader is being
 * elected (or is frozen: then for as long as a minute), so it is undecided.
 */
export function presenceOf(state: QueueState | null): Presence {
  if (state === null) return "absent";
  if (state.consumerCount > 0) return "present";
  return state.messageCount > 0 ? "absent" : "undecided";
}

/**
 * Judges a series of looks at a queue (pure: the caller passes the clock).
 * - `patient` (our requests are in the queue or with a worker): a sure absence must last the
 *   grace (a worker restarting), and 0/0 is never a verdict: with our requests waiting, a queue
 *   whose workers are all gone shows them as messages, so 0/0 only means the counts are not
 *   available (an election, a frozen leader).
 * - otherwise (nothing of ours in the queue): a sure absence at once, 0/0 after the grace.
 */
export class PresenceJudge {
  private notPresentSince: number | undefined;

  constructor(
    private readonly patient: boolean,
    private readonly graceMs = ABSENCE_GRACE_MS,
  ) {}

  judge(state: QueueState | null, nowMs: number): Presence {
    const presence = presenceOf(state);
    if (presence === "present") {
      this.notPresentSince = undefined;
      return presence;
    }
    if (this.patient && presence === "undecided") return presence;
    this.notPresentSince ??= nowMs;
    if (presence === "absent" && !this.patient) return presence;
    return nowMs - this.notPresentSince >= this.graceMs ? "absent" : "undecided";
  }

  /** Forgets what was seen: a look after a pause starts a new series. */
  reset(): void {
    this.notPresentSince = undefined;
  }
}

/**
 * Looks at the queue until what it shows is decided (a worker, or surely none) or the deadline
 * passes, and returns the last look: what health reports and fail-fast judges.
 */
export async function decidedLook(inspect: InspectQueue, queue: string, deadlineMs: number): Promise<QueueState | null> {
  const judge = new PresenceJudge(false);
  for (;;) {
    const state = await inspect(queue);
    if (judge.judge(state, Date.now()) !== "undecided" || Date.now() + POLL_MS > deadlineMs) return state;
    await Bun.sleep(POLL_MS);
  }
}

/** The no-server error for a queue that is missing or has no consumer. */
export function noServerError(queue: string, state: QueueState | null): NoServerError {
  return new NoServerError(state === null ? `no server: queue '${queue}' does not exist` : `no server: queue '${queue}' has no consumer`);
}

/**
 * Before sending: resolves "present" when a worker consumes from the queue, rejects with
 * NoServerError as `check` says. "fail-fast" takes one look, and resolves "undecided" when the
 * queue shows 0 messages and 0 consumers, which an idle queue without workers and a quorum
 * queue mid-election both show: the engine then sends, and looks again once the broker has
 * confirmed what it sent (see RequestEngine), when requests waiting with nobody to take them
 * settle the question without a fixed wait.
 */
export async function awaitServer(inspect: InspectQueue, queue: string, check: ServerCheck, deadlineMs: number): Promise<Presence> {
  if (check === "none") return "undecided";
  if (check === "fail-fast") {
    const state = await inspect(queue);
    const presence = presenceOf(state);
    if (presence === "absent") throw noServerError(queue, state);
    return presence;
  }
  const started = Date.now();
  for (;;) {
    if (presenceOf(await inspect(queue)) === "present") return "present";
    if (Date.now() + POLL_MS > deadlineMs) {
      throw new NoServerError(`no server: nothing consumed from queue '${queue}' within ${formatDurationMs(deadlineMs - started)}`);
    }
    await Bun.sleep(POLL_MS);
  }
}

/**
 * Looks at the queue every quarter second while `active()` says requests are waiting, and tells
 * `verdict` when every worker has been gone for the grace (a NoServerError) and when one is back
 * (undefined). A look that fails (connection lost) is no evidence either way: the engine hears of
 * the loss. Returns the function that stops watching.
 */
export function watchServer(inspect: InspectQueue, queue: string, active: () => boolean, verdict: (gone: NoServerError | undefined) => void): () => void {
  const judge = new PresenceJudge(true);
  let looking = false;
  const look = async (): Promise<void> => {
    if (!active()) {
      judge.reset();
      return;
    }
    if (looking) return;
    looking = true;
    try {
      const state = await inspect(queue).catch(() => undefined);
      if (state === undefined) return;
      const presence = judge.judge(state, Date.now());
      if (presence === "present") verdict(undefined);
      else if (presence === "absent") {
        const why = state === null ? `queue '${queue}' was deleted` : `every worker left queue '${queue}'`;
        verdict(new NoServerError(`no server: ${why} while the answer was awaited`));
      }
    } finally {
      looking = false;
    }
  };
  const timer = setInterval(() => void look(), WATCH_MS);
  return () => clearInterval(timer);
}
