import { UsageError } from "../errors.ts";
import { parseN } from "../protocol.ts";

/** An n as a user typed it (an argument, or a line of `call -`), or the usage error that refuses it before sending. */
export function parseCallN(text: string): number {
  const parsed = parseN(text, Number.MAX_SAFE_INTEGER);
  if (parsed.ok) return parsed.n;
  throw new UsageError(`invalid n '${text}': ${parsed.error.code === "OUT_OF_RANGE" ? "too large" : "expected a non-negative decimal integer"}`);
}
