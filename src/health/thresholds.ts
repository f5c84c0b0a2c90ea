import { parseDurationMs } from "../duration.ts";
import { UsageError } from "../errors.ts";
import { clip } from "../text.ts";
import { parseRange, plainNumber, type EndpointParser, type Range } from "./range.ts";

/** What counts as healthy. Backlog ranges are in messages, round-trip ranges in seconds. */
export interface Thresholds {
  minConsumers: number;
  backlogWarning: Range;
  backlogCritical: Range;
  rttWarning: Range;
  rttCritical: Range;
}

/** The flags' text, as given on the command line or in the environment. */
export interface ThresholdTexts {
  minConsumers: string;
  backlogWarning: string;
  backlogCritical: string;
  rttWarning: string;
  rttCritical: string;
}

export const DEFAULT_THRESHOLD_TEXTS: ThresholdTexts = {
  minConsumers: "1",
  backlogWarning: "100",
  backlogCritical: "1000",
  rttWarning: "0.5s",
  rttCritical: "2s",
};

/** A round-trip endpoint: seconds (`0.5`) or a duration with a unit (`500ms`, `2s`). */
const seconds: EndpointParser = (text) => {
  const plain = plainNumber(text); // kept exact: parseDurationMs rounds to whole milliseconds
  if (plain !== undefined) return plain;
  const ms = parseDurationMs(text);
  return ms === undefined ? undefined : ms / 1000;
};

const wholeCount: EndpointParser = (text) => {
  const value = plainNumber(text);
  return value !== undefined && Number.isInteger(value) ? value : undefined;
};

const FLAGS: Record<keyof ThresholdTexts, string> = {
  minConsumers: "--min-consumers",
  backlogWarning: "--backlog-warning",
  backlogCritical: "--backlog-critical",
  rttWarning: "--rtt-warning",
  rttCritical: "--rtt-critical",
};

/** `origins` names where each text came from when not its flag (an environment variable), for the errors. */
export function parseThresholds(texts: ThresholdTexts, origins: { readonly [K in keyof ThresholdTexts]?: string | undefined } = {}): Thresholds {
  const from = (field: keyof ThresholdTexts): string => origins[field] ?? FLAGS[field];
  const minConsumers = wholeCount(texts.minConsumers.trim());
  if (minConsumers === undefined || minConsumers < 0) {
    throw new UsageError(`${from("minConsumers")} needs a whole number of 0 or more, got '${clip(texts.minConsumers)}'`);
  }
  const range = (field: keyof ThresholdTexts, endpoint: EndpointParser): Range => {
    const parsed = parseRange(texts[field], endpoint);
    if (!parsed.ok) throw new UsageError(`${from(field)}: ${parsed.message}`);
    return parsed.range;
  };
  return {
    minConsumers,
    backlogWarning: range("backlogWarning", wholeCount),
    backlogCritical: range("backlogCritical", wholeCount),
    rttWarning: range("rttWarning", seconds),
    rttCritical: range("rttCritical", seconds),
  };
}
