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
const WATCH_MS = 500;
/** Consecutive looks that found nobody before concluding every worker is gone: a restarting worker is not "gone". */
const WATCH_STRIKES = 2;

/** The no-server verdict for what a look at the queue found, or undefined when a worker is there. */
export function noServerError(queue: string, state: QueueState | null): NoServerError | undefined {
  if (state === null) return new NoServerError(`no server: queue '${queue}' does not exist`);
  if (state.consumerCount === 0) return new NoServerError(`no server: queue '${queue}' has no consumer`);
  return undefined;
}

/** Resolves when a worker consumes from the queue; rejects with NoServerError as `check` says. */
export async function awaitServer(inspect: InspectQueue, queue: string, check: ServerCheck, deadlineMs: number): Promise<void> {
  if (check === "none") return;
  const started = Date.now();
  for (;;) {
    const verdict = noServerError(queue, await inspect(queue));
    if (verdict === undefined) return;
    if (check === "fail-fast") throw verdict;
    if (Date.now() + POLL_MS > deadlineMs) {
      throw new NoServerError(`no server: nothing consumed from queue '${queue}' within ${formatDurationMs(deadlineMs - started)}`);
    }
    await Bun.sleep(POLL_MS);
  }
}

/**
 * Looks at the queue every half second while `active()` says requests are waiting, and tells
 * `verdict` when every worker has gone (a NoServerError) and when one is back (undefined).
 * A look that fails (connection lost) is no evidence either way: the engine hears of the loss.
 * Returns the function that stops watching.
 */
export function watchServer(
  inspect: InspectQueue,
  queue: string,
  active: () => boolean,
  verdict: (gone: NoServerError | undefined) => void,
): () => void {
  let strikes = 0;
  let looking = false;
  const look = async (): Promise<void> => {
    if (looking || !active()) return;
    looking = true;
    try {
      const state = await inspect(queue).catch(() => undefined);
      if (state === undefined) return;
      strikes = noServerError(queue, state) === undefined ? 0 : strikes + 1;
      if (strikes === 0) verdict(undefined);
      else if (strikes >= WATCH_STRIKES) {
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
