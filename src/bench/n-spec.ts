import { UsageError } from "../errors.ts";
import { clip } from "../text.ts";

/** Which n each bench request asks for: always the same, or uniformly drawn from min..max. */
export interface NSpec {
  min: number;
  max: number;
}

/** `30` or `20..40` (inclusive), each bound a non-negative decimal integer; `from` names the setting in errors. */
export function parseNSpec(text: string, from = "--n"): NSpec {
  const match = /^(\d+)(?:\.\.(\d+))?$/.exec(text.trim());
  const min = match ? Number(match[1]) : Number.NaN;
  const max = match ? Number(match[2] ?? match[1]) : Number.NaN;
  if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max)) {
    throw new UsageError(`${from} needs a whole number such as 30, or a range such as 20..40; got '${clip(text)}'`);
  }
  if (min > max) throw new UsageError(`${from}: the range ${clip(text)} is empty: the first bound is above the second`);
  return { min, max };
}

/** `random` returns [0, 1), like Math.random, which it defaults to. */
export function pickN(spec: NSpec, random: () => number = Math.random): number {
  return spec.min + Math.floor(random() * (spec.max - spec.min + 1));
}

export function formatNSpec(spec: NSpec): string {
  return spec.min === spec.max ? String(spec.min) : `${spec.min}..${spec.max}`;
}
