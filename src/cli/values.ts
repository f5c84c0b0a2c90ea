import { parseDurationMs } from "../duration.ts";
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

export interface DurationLimits {
  max?: number;
}

export function parseDurationSetting({ text, from }: Setting, _limits: DurationLimits = {}): number {
  const ms = parseDurationMs(text);
  if (ms === undefined || ms <= 0) throw new UsageError(`${from} needs a positive duration such as 2, 0.5, 500ms, 2s or 1m; got '${clip(text)}'`);
  return ms;
}
