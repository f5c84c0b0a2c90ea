import { parseDurationMs } from "../duration.ts";
import { UsageError } from "../errors.ts";

/** Flag values arrive as strings; these turn them into numbers or say clearly what was wrong. */

export function parseIntegerFlag(flag: string, text: string, { min, max }: { min: number; max: number }): number {
  if (!/^\d+$/.test(text.trim())) throw new UsageError(`--${flag} needs a whole number, got '${text}'`);
  const value = Number(text.trim());
  if (value < min || value > max) throw new UsageError(`--${flag} must be between ${min} and ${max}, got ${value}`);
  return value;
}

export function parseDurationFlag(flag: string, text: string): number {
  const ms = parseDurationMs(text);
  if (ms === undefined || ms <= 0) {
    throw new UsageError(`--${flag} needs a positive duration such as 2, 0.5, 500ms, 2s or 1m; got '${text}'`);
  }
  return ms;
}
