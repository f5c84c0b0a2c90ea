import { formatDurationMs, parseDurationMs } from "../duration.ts";
import { UsageError } from "../errors.ts";
import { clip } from "../text.ts";
import type { Setting } from "./read-options.ts";

/**
 * Setting values arrive as text, from a flag or a variable; these turn them into numbers and
 * booleans or say what was wrong, naming where the value came from (`--timeout`,
 * `FIBRPC_CALL_TIMEOUT`) and quoting at most a short piece of it.
 */

const TRUE = new Set(["1", "true", "yes", "on"]);
const FALSE = new Set(["0", "false", "no", "off"]);

/** The spellings a boolean accepts, as a flag (`--json=yes`) or a variable (`FIBRPC_CALL_JSON=1`); undefined for anything else. */
export function parseBoolean(text: string): boolean | undefined {
  const normalised = text.trim().toLowerCase();
  if (TRUE.has(normalised)) return true;
  if (FALSE.has(normalised)) return false;
  return undefined;
}

export function parseIntegerSetting({ text, from }: Setting, { min, max }: { min: number; max: number }): number {
  const digits = text.trim();
  if (!/^\d+$/.test(digits)) throw new UsageError(`${from} needs a whole number from ${min} to ${max}; got '${clip(text)}'`);
  const value = Number(digits);
  if (value < min || value > max) throw new UsageError(`${from} must be from ${min} to ${max}; got ${clip(digits.replace(/^0+(?=\d)/, ""))}`);
  return value;
}

/**
 * The longest duration any setting takes (--timeout, -t, --drain-timeout, --duration...). A
 * JavaScript timer holds at most 2^31-1 ms (24.8 days) and fires at once beyond it, with a
 * TimeoutOverflowWarning: `--timeout 999999999` timed out after milliseconds. A day is far
 * more than any of them needs; above it is bad usage, saying so.
 */
export const MAX_DURATION_MS = 24 * 3_600_000;

export interface DurationLimits {
  max?: number;
}

export function parseDurationSetting({ text, from }: Setting, { max = MAX_DURATION_MS }: DurationLimits = {}): number {
  const ms = parseDurationMs(text);
  if (ms === undefined || ms <= 0) throw new UsageError(`${from} needs a positive duration such as 2, 0.5, 500ms, 2s or 1m; got '${clip(text)}'`);
  if (ms > max) throw new UsageError(`${from} must be at most ${formatLimit(max)}; got '${clip(text)}'`);
  return ms;
}

function formatLimit(ms: number): string {
  return ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : formatDurationMs(ms);
}
