import { clip } from "../text.ts";

/**
 * Threshold ranges in the Monitoring Plugins syntax (development guidelines, "Threshold and
 * ranges"): an alert is raised when the value lies OUTSIDE start..end (both inclusive), or
 * INSIDE it when the range starts with `@`.
 *
 *   10      alert if < 0 or > 10        10:     alert if < 10
 *   ~:10    alert if > 10               10:20   alert if < 10 or > 20
 *   @10:20  alert if 10 <= value <= 20
 */
export interface Range {
  start: number; // -Infinity for `~`
  end: number; // Infinity when omitted after `:`
  /** `@`: alert when the value is inside the range rather than outside. */
  alertInside: boolean;
}

/** Reads one endpoint; returns undefined for text it does not accept (callers choose units). */
export type EndpointParser = (text: string) => number | undefined;

export const plainNumber: EndpointParser = (text) => {
  if (!/^-?(\d+(\.\d*)?|\.\d+)$/.test(text)) return undefined;
  return Number(text);
};

export type RangeParse = { ok: true; range: Range } | { ok: false; message: string };

export function parseRange(text: string, parseEndpoint: EndpointParser = plainNumber): RangeParse {
  const trimmed = text.trim();
  const alertInside = trimmed.startsWith("@");
  const body = alertInside ? trimmed.slice(1) : trimmed;
  const colon = body.indexOf(":");
  const startText = colon === -1 ? "0" : body.slice(0, colon);
  const endText = colon === -1 ? body : body.slice(colon + 1);
  const start = startText === "~" ? -Infinity : startText === "" ? 0 : parseEndpoint(startText);
  const end = endText === "" && colon !== -1 ? Infinity : parseEndpoint(endText);
  if (start === undefined || end === undefined || body === "" || body.includes(":", colon + 1)) {
    return { ok: false, message: `'${clip(text)}' is not a threshold range (examples: 10, 10:, ~:10, 10:20, @10:20)` };
  }
  if (start > end) return { ok: false, message: `'${clip(text)}': the start of a range must not exceed its end` };
  return { ok: true, range: { start, end, alertInside } };
}

/** True when `value` should raise the alert this range stands for. */
export function alerts(range: Range, value: number): boolean {
  const inside = value >= range.start && value <= range.end;
  return range.alertInside ? inside : !inside;
}

/** The canonical text of a range, as perfdata carries it: `10`, `10:`, `~:10`, `@10:20`. */
export function formatRange(range: Range): string {
  const prefix = range.alertInside ? "@" : "";
  const start = range.start === -Infinity ? "~" : formatNumber(range.start);
  if (range.end === Infinity) return `${prefix}${start}:`;
  if (range.start === 0) return `${prefix}${formatNumber(range.end)}`;
  return `${prefix}${start}:${formatNumber(range.end)}`;
}

/** Why `value` alerts, in words: "above 100", "below 1", "within 10:20". */
export function describeBreach(range: Range, value: number): string {
  if (range.alertInside) return `within ${formatRange(range).slice(1)}`;
  return value > range.end ? `above ${formatNumber(range.end)}` : `below ${formatNumber(range.start)}`;
}

function formatNumber(value: number): string {
  return String(Number(value.toPrecision(12)));
}
