/** Where settings come from: an explicit flag wins over the environment, which wins over the default. */
import { UsageError } from "./errors.ts";

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

/** The URL with its password replaced, for logs and error messages: `amqp://guest:***@host`. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString().replace(/\/$/, "");
  } catch {
    // Not a URL we can parse: strip anything between "//user:" and "@" by hand.
    return url.replace(/(\/\/[^:/@]*:)[^@]*@/, "$1***@");
  }
}

/** Removes a secret from any text before it is shown (amqplib messages may echo what it was given). */
export function scrubSecret(text: string, url: string): string {
  const { username, password } = credentialsOf(url);
  const scrubbed = text.split(url).join(redactUrl(url));
  // A password equal to the user name is no secret beyond it: masking it would hide the user.
  if (password.length === 0 || password === username) return scrubbed;
  // A very short password would match inside ordinary words ("amqp"): only whole tokens go.
  const pattern = password.length < MIN_FREE_MATCH ? new RegExp(`(?<!\\w)${escapeRegExp(password)}(?!\\w)`, "g") : password;
  return scrubbed.replaceAll(pattern, "***");
}

const MIN_FREE_MATCH = 4;

function credentialsOf(url: string): { username: string; password: string } {
  try {
    const parsed = new URL(url);
    return { username: decodeURIComponent(parsed.username), password: decodeURIComponent(parsed.password) };
  } catch {
    const match = /\/\/([^:/@]*):([^@]*)@/.exec(url);
    return { username: match?.[1] ?? "", password: match?.[2] ?? "" };
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
