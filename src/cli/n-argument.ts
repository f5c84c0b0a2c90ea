import { UsageError } from "../errors.ts";
import { clip } from "../text.ts";

/**
 * An n as a user writes it (a command-line argument, a line of `call -`'s input): decimal
 * digits only. Leading zeros are accepted at any length (`007` is 7, the request carries `7`),
 * and a number too big to send exactly is "too large", however many digits it has.
 * `where` says which input it was, e.g. "line 12".
 */
export function parseArgumentN(text: string, where?: string): number {
  const quoted = `n '${clip(text)}'${where === undefined ? "" : ` (${where})`}`;
  if (!/^[0-9]+$/.test(text)) throw new UsageError(`invalid ${quoted}: expected a non-negative decimal integer`);
  const digits = text.replace(/^0+(?=[0-9])/, "");
  const n = Number(digits);
  if (digits.length > 16 || !Number.isSafeInteger(n)) {
    throw new UsageError(`${quoted} is too large: at most ${Number.MAX_SAFE_INTEGER}`);
  }
  return n;
}
