import { formatDurationMs } from "../duration.ts";
import { plural } from "../text.ts";

/** How far a running bench is; `goal` is a request count or a duration, whichever was asked for. */
export interface Progress {
  done: number;
  failed: number;
  elapsedMs: number;
  /** Calls per second over the last interval, not since the start: it shows stalls. */
  recentRate: number;
  goal: { requests: number } | { durationMs: number };
}

/** One line, redrawn in place on a terminal: `  8123/20000 calls  11402/s  0 errors  0.7s`. */
export function formatProgress(progress: Progress): string {
  const { goal } = progress;
  const count = "requests" in goal ? `${progress.done}/${goal.requests} calls` : `${progress.done} calls`;
  const time = "durationMs" in goal ? `${formatDurationMs(progress.elapsedMs)}/${formatDurationMs(goal.durationMs)}` : formatDurationMs(progress.elapsedMs);
  const errors = plural(progress.failed, "error");
  return `  ${count}  ${Math.round(progress.recentRate)}/s  ${errors}  ${time}`;
}

/** Carriage return, the line, and erase-to-end so a shorter line leaves no tail of the last. */
export function redrawLine(line: string): string {
  return `\r${line}\u001b[K`;
}

export const CLEAR_LINE = "\r\u001b[K";
