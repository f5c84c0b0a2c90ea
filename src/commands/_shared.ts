import type { ArgsDef } from "citty";
import { resolveUrl, URL_ENV } from "../config.ts";
import { DEFAULT_QUEUE } from "../protocol.ts";
import type { BrokerOptions } from "../rpc/broker.ts";

/** Flags every command that talks to the broker takes. No default shown for --url: it would print a password. */
export const brokerArgs = {
  url: {
    type: "string",
    description: `Broker URL, amqp:// or amqps:// (env ${URL_ENV}; else guest on localhost:5672)`,
    valueHint: "url",
  },
  queue: { type: "string", description: "Queue the worker consumes from", default: DEFAULT_QUEUE, valueHint: "name" },
} as const satisfies ArgsDef;

export function brokerOptionsFrom(args: { url?: string | undefined }): BrokerOptions {
  return { url: resolveUrl(args.url, process.env) };
}

/** Positional arguments as citty collects them, strings only. */
export function positionals(args: { _: unknown }): string[] {
  return Array.isArray(args._) ? args._.map(String) : [];
}
