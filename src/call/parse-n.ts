import { UsageError } from "../errors.ts";
import { clip } from "../text.ts";

/**
 * An n as a user typed it (an argument, or a line of `call -`), or the usage error that
 * refuses it before sending: decimal digits only. Leading zeros are accepted at any length
 * (`007` is 7, and the request carries `7`), and a number too big to send exactly is "too
 * large" however many digits it has. A message quotes at most a short piece of the input.
 */
export function parseCallN(text: string): number {
  if (!/^[0-9]+$/.test(text)) throw new UsageError(`invalid n '${clip(text)}': expected a non-negative decimal integer`);
  const digits = text.replace(/^0+(?=[0-9])/, "");
  const n = Number(digits);
  if (digits.length > 16 || !Number.isSafeInteger(n)) {
    throw new UsageError(`invalid n '${clip(text)}': too large, at most ${Number.MAX_SAFE_INTEGER}`);
  }
  return n;
}
