import type { Env } from "./read-options.ts";
import { parseBoolean } from "./values.ts";

/**
 * Whether a bug's stack trace is shown: FIBRPC_DEBUG=1 for every command, or serve's
 * --log-level debug. Otherwise an internal error is one line, like every other failure.
 */
let requested = false;

export function showStackTraces(): void {
  requested = true;
}

export function stackTracesWanted(env: Env = process.env): boolean {
  return requested || parseBoolean(env.FIBRPC_DEBUG ?? "") === true;
}
