import { readFileSync } from "node:fs";
import { URL_ENV, URL_FILE_ENV } from "../config.ts";
import { UsageError } from "../errors.ts";
import { DEFAULT_QUEUE } from "../protocol.ts";
import { clip } from "../text.ts";
import type { BrokerOptions, TlsOptions } from "../rpc/broker.ts";
import { PASSWORD_ON_COMMAND_LINE_WARNING, passwordOnCommandLine, resolveBrokerUrls } from "../cli/broker-urls.ts";
import { sharedFlag, sharedOption } from "../cli/options.ts";
import type { Env, Setting } from "../cli/read-options.ts";
import { rememberSecretSources } from "../cli/secrets.ts";

/** Flags every command that talks to the broker takes, under the variable names users know. */
export const brokerArgs = {
  // No default shown: the default URL carries a password, and --help never prints one.
  url: sharedOption(URL_ENV, {
    description: "Broker URL, amqp:// or amqps://, or a list of a cluster's nodes (commas or spaces between); else guest on localhost:5672",
    valueHint: "url",
    repeatable: true,
  }),
  "url-file": sharedOption(URL_FILE_ENV, {
    description: "A file holding the broker URL (or list), e.g. a container secret: keeps the password out of ps and the environment",
    valueHint: "file",
  }),
  queue: sharedOption("FIBRPC_QUEUE", { description: "Queue the worker consumes from", fallback: DEFAULT_QUEUE, valueHint: "name" }),
  ca: sharedOption("FIBRPC_CA", { description: "amqps: PEM file of the CA(s) to trust instead of the system's", valueHint: "file" }),
  cert: sharedOption("FIBRPC_CERT", {
    description: "amqps: PEM client certificate (with --key); with no user in the URL, logs in by it (EXTERNAL)",
    valueHint: "file",
  }),
  key: sharedOption("FIBRPC_KEY", { description: "amqps: PEM private key of --cert", valueHint: "file" }),
  insecure: sharedFlag("FIBRPC_INSECURE", { description: "amqps: do NOT verify the broker's certificate (testing only; warns on every run)" }),
};

type BrokerOption = "url" | "url-file" | "queue" | "ca" | "cert" | "key";

/** What the broker settings are read through: a command's Options, seen through the broker flags only. */
export interface BrokerSettings {
  setting(name: BrokerOption): Setting | undefined;
  text(name: BrokerOption): string | undefined;
  given(name: BrokerOption): string[];
  flag(name: "insecure"): boolean;
  readonly warnings: string[];
  readonly env: Env;
}

export function brokerOptionsFrom(read: BrokerSettings): BrokerOptions {
  const resolved = resolveBrokerUrls({ flags: read.given("url"), flagFile: read.given("url-file").at(-1), env: read.env });
  rememberSecretSources(resolved.sources);
  if (passwordOnCommandLine(resolved)) read.warnings.push(PASSWORD_ON_COMMAND_LINE_WARNING);
  const { urls } = resolved;
  const tls = tlsOptionsFrom(read, urls);
  return tls === undefined ? { urls } : { urls, tls };
}

/** TLS settings from --ca/--cert/--key/--insecure; undefined when none is given (amqps then trusts the system's CAs). */
function tlsOptionsFrom(read: BrokerSettings, urls: readonly string[]): TlsOptions | undefined {
  const ca = read.setting("ca");
  const cert = read.setting("cert");
  const key = read.setting("key");
  const insecure = read.flag("insecure");
  if (ca === undefined && cert === undefined && key === undefined && !insecure) return undefined;
  if (!urls.every((url) => /^amqps:/i.test(url))) {
    throw new UsageError(
      "--ca, --cert, --key and --insecure (or FIBRPC_CA, FIBRPC_CERT, FIBRPC_KEY, FIBRPC_INSECURE) need an amqps:// URL, for every node listed",
    );
  }
  if ((cert === undefined) !== (key === undefined)) throw new UsageError("--cert and --key go together: give both or neither");
  if (insecure) {
    // Loud on purpose: this must never go unnoticed in a production log.
    read.warnings.push("--insecure: the broker's TLS certificate is NOT verified; anyone on the path can impersonate it");
  }
  return {
    ...(ca === undefined ? {} : { ca: readPem(ca) }),
    ...(cert === undefined ? {} : { cert: readPem(cert) }),
    ...(key === undefined ? {} : { key: readPem(key) }),
    verify: !insecure,
    // Log in by the certificate only where no URL names a user.
    external: cert !== undefined && urls.every((url) => new URL(url).username === ""),
  };
}

function readPem({ text: path, from }: Setting): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const reason = typeof error === "object" && error !== null && "code" in error ? String(error.code) : String(error);
    throw new UsageError(`cannot read ${from} file '${clip(path)}': ${reason}`);
  }
}

/** AMQP's limit on a queue name (a short string): a longer one makes the broker close the channel. */
const MAX_QUEUE_NAME_BYTES = 255;

export function queueFrom(read: BrokerSettings): string {
  const setting = read.setting("queue");
  if (setting === undefined) return DEFAULT_QUEUE;
  const bytes = Buffer.byteLength(setting.text, "utf8");
  if (bytes > MAX_QUEUE_NAME_BYTES) {
    throw new UsageError(`${setting.from}: a queue name is at most ${MAX_QUEUE_NAME_BYTES} bytes; got ${bytes} ('${clip(setting.text)}')`);
  }
  return setting.text;
}
