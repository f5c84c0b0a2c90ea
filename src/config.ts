/** Where settings come from: an explicit flag wins over the environment, which wins over the default. */
import { UsageError } from "./errors.ts";
import { redactUrl } from "./redact.ts";

export const DEFAULT_URL = "amqp://guest:guest@localhost:5672";
export const URL_ENV = "AMQP_URL";

export function resolveUrl(flag: string | undefined, env: Record<string, string | undefined>): string {
  return nonEmpty(flag) ?? nonEmpty(env[URL_ENV]) ?? DEFAULT_URL;
}

/**
 * Refuses a URL that cannot name a broker before any connection is tried, so a typo is a usage
 * error (exit 2) and not a broker failure. Returns the URL unchanged when it is fine.
 */
export function checkBrokerUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--url/${URL_ENV} is not a URL: '${redactUrl(url)}' (expected amqp://user:password@host:port/vhost)`);
  }
  if (parsed.protocol !== "amqp:" && parsed.protocol !== "amqps:") {
    throw new UsageError(`--url/${URL_ENV} must start with amqp:// or amqps://; got '${redactUrl(url)}'`);
  }
  if (parsed.hostname === "") throw new UsageError(`--url/${URL_ENV} names no host: '${redactUrl(url)}'`);
  return url;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}
