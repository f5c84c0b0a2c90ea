/** What a broker URL may be: checked before any connection, so a typo is bad usage (exit 2), not an outage. Pure. */
import { UsageError } from "./errors.ts";
import { redactUrl } from "./redact.ts";
import { clip } from "./text.ts";

export const DEFAULT_URL = "amqp://guest:guest@localhost:5672";
export const URL_ENV = "AMQP_URL";
export const URL_FILE_ENV = "AMQP_URL_FILE";

const EXAMPLE = "amqp://user:password@host:5672/vhost";

function wholeNumber(min: number, max: number): (value: string) => boolean {
  return (value) => /^\d+$/.test(value) && Number(value) >= min && Number(value) <= max;
}

/**
 * The query parameters amqplib reads (lib/connect.js), each with what it accepts and says. Any
 * other is refused: amqplib would ignore it silently, and `?heartbeat=abc` would become 0
 * (heartbeats off) without a word.
 */
const QUERY_PARAMETERS: Record<string, { accepts: (value: string) => boolean; expected: string }> = {
  heartbeat: { accepts: wholeNumber(0, 65_535), expected: "a whole number of seconds from 0 (off) to 65535" },
  channelMax: { accepts: wholeNumber(0, 65_535), expected: "a whole number from 0 (no limit) to 65535" },
  frameMax: {
    accepts: (value) => value === "0" || wholeNumber(4096, 4_294_967_295)(value),
    expected: "0 (no limit) or a whole number of bytes from 4096 to 4294967295",
  },
  maxFrameSize: { accepts: wholeNumber(4096, 4_294_967_295), expected: "a whole number of bytes from 4096 to 4294967295" },
  locale: { accepts: (value) => /^[A-Za-z]{2}(_[A-Za-z]{2})?$/.test(value), expected: "a locale such as en_US" },
};

/**
 * Refuses a URL that cannot name a broker, before any connection is tried. `what` says which
 * URL it is (`--url`, `AMQP_URL (2 of 3)`); the URL is quoted with its password hidden.
 * Returns the URL unchanged when it is fine.
 */
export function checkBrokerUrl(url: string, what = "--url"): string {
  // Redacted, and without its query or '#' part: a mistyped secret could sit there too.
  const shown = `'${clip(redactUrl(url).replace(/[?#][^]*$/, "?…"))}'`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`${what} is not a URL: ${shown} (expected ${EXAMPLE})`);
  }
  if (parsed.protocol !== "amqp:" && parsed.protocol !== "amqps:") {
    throw new UsageError(`${what} must start with amqp:// or amqps://; got ${shown}`);
  }
  if (parsed.hostname === "") throw new UsageError(`${what} names no host: ${shown} (expected ${EXAMPLE})`);
  if (parsed.hash !== "") throw new UsageError(`${what} has a '#' part, which would be ignored: ${shown} (write a '#' in a password as %23)`);
  const seen = new Set<string>();
  for (const [name, value] of parsed.searchParams) {
    const parameter = QUERY_PARAMETERS[name];
    // Names only, never values: a value is where a mistyped secret would be.
    if (parameter === undefined) {
      throw new UsageError(`${what}: unknown URL parameter '${clip(name, 30)}' (amqplib reads ${Object.keys(QUERY_PARAMETERS).join(", ")})`);
    }
    if (seen.has(name)) throw new UsageError(`${what}: URL parameter ${name} is given twice`);
    seen.add(name);
    if (!parameter.accepts(value)) throw new UsageError(`${what}: URL parameter ${name} must be ${parameter.expected}`);
  }
  return url;
}
