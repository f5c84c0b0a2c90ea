import type { ArgsDef } from "citty";
import { URL_ENV, checkBrokerUrl, resolveUrl } from "../config.ts";
import { DEFAULT_QUEUE } from "../protocol.ts";
import type { BrokerOptions } from "../rpc/broker.ts";
import { option, readOption } from "../cli/options.ts";

/** Flags every command that talks to the broker takes. */
export const brokerArgs = {
  // No default shown: the default URL carries a password, and --help never prints one.
  url: option({ description: "Broker URL, amqp:// or amqps://; else guest on localhost:5672", env: URL_ENV, valueHint: "url" }),
  queue: option({ description: "Queue the worker consumes from", env: "FIBRPC_QUEUE", fallback: DEFAULT_QUEUE, valueHint: "name" }),
} as const satisfies ArgsDef;

export function brokerOptionsFrom(args: { url?: unknown }): BrokerOptions {
  return { url: checkBrokerUrl(resolveUrl(readOption("url", args.url, brokerArgs.url), process.env)) };
}

export function queueFrom(args: { queue?: unknown }): string {
  return readOption("queue", args.queue, brokerArgs.queue);
}

/** Positional arguments as citty collects them, strings only. */
export function positionals(args: { _: unknown }): string[] {
  return Array.isArray(args._) ? args._.map(String) : [];
}
