import { readFileSync } from "node:fs";
import type { ArgsDef } from "citty";
import { URL_ENV, checkBrokerUrl, resolveUrl } from "../config.ts";
import { UsageError } from "../errors.ts";
import { DEFAULT_QUEUE } from "../protocol.ts";
import type { BrokerOptions, TlsOptions } from "../rpc/broker.ts";
import { flag, option, readFlag, readOption } from "../cli/options.ts";

/** Flags every command that talks to the broker takes. */
export const brokerArgs = {
  // No default shown: the default URL carries a password, and --help never prints one.
  url: option({ description: "Broker URL, amqp:// or amqps://; else guest on localhost:5672", env: URL_ENV, valueHint: "url" }),
  queue: option({ description: "Queue the worker consumes from", env: "FIBRPC_QUEUE", fallback: DEFAULT_QUEUE, valueHint: "name" }),
  ca: option({ description: "amqps: PEM file of the CA(s) to trust instead of the system's", env: "FIBRPC_CA", valueHint: "file" }),
  cert: option({
    description: "amqps: PEM client certificate (with --key); with no user in the URL, logs in by it (EXTERNAL)",
    env: "FIBRPC_CERT",
    valueHint: "file",
  }),
  key: option({ description: "amqps: PEM private key of --cert", env: "FIBRPC_KEY", valueHint: "file" }),
  insecure: flag({ description: "amqps: do NOT verify the broker's certificate (testing only; warns on every run)", env: "FIBRPC_INSECURE" }),
} as const satisfies ArgsDef;

/** The broker flags' values as citty parses them: text, or a boolean for --insecure; undefined when not given. */
type BrokerArgValues = {
  url?: string | undefined;
  ca?: string | undefined;
  cert?: string | undefined;
  key?: string | undefined;
  insecure?: boolean | undefined;
};

/** Where a command's warnings about its own settings go: a plain stderr line unless it has a logger. */
export type Warn = (message: string) => void;

const warnOnStderr: Warn = (message) => console.error(`fibrpc: WARNING: ${message}`);

export function brokerOptionsFrom(args: BrokerArgValues, warn: Warn = warnOnStderr): BrokerOptions {
  const url = checkBrokerUrl(resolveUrl(readOption("url", args.url, brokerArgs.url), process.env));
  const tls = tlsOptionsFrom(args, url, warn);
  return tls === undefined ? { urls: [url] } : { urls: [url], tls };
}

/** TLS settings from --ca/--cert/--key/--insecure; undefined when none is given (amqps then trusts the system's CAs). */
function tlsOptionsFrom(args: BrokerArgValues, url: string, warn: Warn): TlsOptions | undefined {
  const ca = readOption("ca", args.ca, brokerArgs.ca);
  const cert = readOption("cert", args.cert, brokerArgs.cert);
  const key = readOption("key", args.key, brokerArgs.key);
  const insecure = readFlag("insecure", args.insecure, brokerArgs.insecure);
  if (ca === undefined && cert === undefined && key === undefined && !insecure) return undefined;
  if (!/^amqps:/i.test(url)) {
    throw new UsageError("--ca, --cert, --key and --insecure (or FIBRPC_CA, FIBRPC_CERT, FIBRPC_KEY, FIBRPC_INSECURE) need an amqps:// URL");
  }
  if ((cert === undefined) !== (key === undefined)) throw new UsageError("--cert and --key go together: give both or neither");
  if (insecure) {
    // Loud on purpose: this must never go unnoticed in a production log.
    warn("--insecure: the broker's TLS certificate is NOT verified; anyone on the path can impersonate it");
  }
  return {
    ca: ca === undefined ? undefined : readPem("ca", ca),
    cert: cert === undefined ? undefined : readPem("cert", cert),
    key: key === undefined ? undefined : readPem("key", key),
    verify: !insecure,
    external: cert !== undefined && new URL(url).username === "",
  };
}

function readPem(name: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const reason = typeof error === "object" && error !== null && "code" in error ? String(error.code) : String(error);
    throw new UsageError(`cannot read --${name} file '${path}': ${reason}`);
  }
}

export function queueFrom(args: { queue?: string | undefined }): string {
  return readOption("queue", args.queue, brokerArgs.queue);
}

/** Positional arguments as citty collects them. */
export function positionals(args: { _: readonly string[] }): string[] {
  return [...args._];
}
