import { readFileSync } from "node:fs";
import { DEFAULT_URL, URL_ENV, URL_FILE_ENV, checkBrokerUrl } from "../config.ts";
import { UsageError } from "../errors.ts";
import { clip } from "../text.ts";
import type { Env } from "./read-options.ts";

/**
 * Which broker nodes to talk to, from (first that is given wins):
 *   --url (repeatable)  >  --url-file PATH  >  AMQP_URL_FILE  >  AMQP_URL  >  the local default.
 * Each may hold a list separated by commas or whitespace. A URL given both ways on one level
 * (--url with --url-file, AMQP_URL with AMQP_URL_FILE) is refused: which one was meant?
 * A file's content is the URL (or list), surrounding whitespace and the trailing newline
 * trimmed; a file that cannot be read is named, its content never echoed.
 */
export interface UrlInputs {
  /** Every --url value, in order. */
  flags: readonly string[];
  /** --url-file's path, when given. */
  flagFile: string | undefined;
  env: Env;
}

export interface ResolvedUrls {
  urls: [string, ...string[]];
  /** Where they came from, as messages name it. */
  from: string;
  /** The text they were read from (a file's content included), for scrubbing from any output. */
  sources: string[];
}

export type ReadText = (path: string) => string;

const readUtf8: ReadText = (path) => readFileSync(path, "utf8");

export function resolveBrokerUrls({ flags, flagFile, env }: UrlInputs, readText: ReadText = readUtf8): ResolvedUrls {
  const envUrl = nonEmptyEnv(env, URL_ENV);
  const envFile = nonEmptyEnv(env, URL_FILE_ENV);
  if (flags.length > 0 && flagFile !== undefined) throw new UsageError("give --url or --url-file, not both");
  if (flags.length > 0) return checked(flags.flatMap(splitList), "--url", flags);
  if (flagFile !== undefined) return fromFile(flagFile, "--url-file", readText);
  if (envUrl !== undefined && envFile !== undefined) throw new UsageError(`${URL_ENV} and ${URL_FILE_ENV} are both set: set one of them`);
  if (envFile !== undefined) return fromFile(envFile, URL_FILE_ENV, readText);
  if (envUrl !== undefined) return checked(splitList(envUrl), URL_ENV, [envUrl]);
  return { urls: [DEFAULT_URL], from: "the default URL", sources: [] };
}

function fromFile(path: string, setting: string, readText: ReadText): ResolvedUrls {
  let content: string;
  try {
    content = readText(path);
  } catch (error) {
    const reason = typeof error === "object" && error !== null && "code" in error ? String(error.code) : "unreadable";
    throw new UsageError(`cannot read the URL file '${clip(path)}' (${setting}): ${reason}`);
  }
  const urls = splitList(content);
  if (urls.length === 0) throw new UsageError(`the URL file '${clip(path)}' (${setting}) holds no URL`);
  return checked(urls, `the URL in '${clip(path)}' (${setting})`, [content]);
}

function checked(urls: string[], from: string, sources: readonly string[]): ResolvedUrls {
  const [first, ...rest] = urls;
  if (first === undefined) throw new UsageError(`${from} holds no URL`);
  urls.forEach((url, index) => checkBrokerUrl(url, urls.length === 1 ? from : `${from} (URL ${index + 1} of ${urls.length})`));
  return { urls: [first, ...rest], from, sources: [...sources] };
}

function nonEmptyEnv(env: Env, name: string): string | undefined {
  const value = env[name];
  if (value !== undefined && value.trim() === "") throw new UsageError(`${name} is set but empty: give it a value or unset it`);
  return value;
}

function splitList(text: string): string[] {
  return text.split(/[\s,]+/).filter((item) => item !== "");
}

/** The URLs whose password is on our command line, where `ps` shows it to every user of the machine. */
export function passwordOnCommandLine(resolved: ResolvedUrls): boolean {
  if (resolved.from !== "--url") return false;
  return resolved.urls.some((url) => {
    const { username, password } = new URL(url);
    // guest:guest, or any password equal to its user name, hides nothing.
    return password !== "" && password !== username;
  });
}

export const PASSWORD_ON_COMMAND_LINE_WARNING = `a password given with --url is visible to other users of this machine (ps); put the URL in a file and point ${URL_FILE_ENV} (or --url-file) at it`;
