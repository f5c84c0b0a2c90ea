const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses a duration given as seconds (`2`, `0.5`) or with a unit (`500ms`, `2s`, `1m`, `1h`)
 * into milliseconds. Returns undefined for anything else, so callers choose the error.
 */
export function parseDurationMs(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?|\.\d+)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) return undefined;
  const amount = Number(match[1]);
  const unit = UNIT_MS[match[2] ?? "s"];
  if (unit === undefined || !Number.isFinite(amount)) return undefined;
  return Math.round(amount * unit);
}

/**
 * The one way fibrpc writes a duration or a latency: three significant figures, milliseconds
 * below a second, seconds above: `0.384ms`, `3.1ms`, `250ms`, `1.5s`, `12.3s`, `600s`.
 */
export function formatDurationMs(ms: number): string {
  const millis = significant(ms);
  if (millis < 1000) return `${millis}ms`;
  const seconds = ms / 1000;
  return `${seconds >= 100 ? Math.round(seconds) : significant(seconds)}s`;
}

function significant(value: number): number {
  const rounded = Number(value.toPrecision(3));
  return Math.abs(rounded) < 0.001 ? 0 : rounded;
}
