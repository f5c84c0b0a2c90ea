import { defineCommand } from "citty";
import { LOG_LEVELS, createServerLog, type LogLevelName } from "../log.ts";
import { FibServer } from "../rpc/server.ts";
import { parseDurationFlag, parseIntegerFlag } from "../cli/flags.ts";
import { interruption } from "../cli/signals.ts";
import { brokerArgs, brokerOptionsFrom } from "./_shared.ts";

/** Defaults chosen by measurement: see "Why these defaults" in the README. */
export const DEFAULT_PREFETCH = 64;
export const DEFAULT_MAX_N = 100_000;
const MAX_N_LIMIT = 10_000_000;

export default defineCommand({
  meta: { name: "serve", description: "Run the Fibonacci worker on a queue until SIGTERM/SIGINT" },
  args: {
    ...brokerArgs,
    prefetch: { type: "string", description: "Requests taken from the queue ahead of being answered", default: String(DEFAULT_PREFETCH), valueHint: "count" },
    "max-n": { type: "string", description: "Largest n answered; above it callers get OUT_OF_RANGE", default: String(DEFAULT_MAX_N), valueHint: "n" },
    "drain-timeout": { type: "string", description: "On shutdown, how long to finish in-flight work", default: "10s", valueHint: "duration" },
    "queue-type": {
      type: "enum",
      options: ["classic", "quorum"],
      default: "classic",
      description: "Kind of queue to declare when it does not exist (an existing queue is used as it is)",
    },
    "log-format": { type: "enum", options: ["pretty", "json"], default: "pretty", description: "Log lines on stderr as text or JSON" },
    "log-level": { type: "enum", options: [...LOG_LEVELS], default: "info", description: "Least severe level logged" },
  },
  async run({ args }) {
    const server = new FibServer({
      broker: brokerOptionsFrom(args),
      queue: args.queue,
      queueKind: args["queue-type"] === "quorum" ? "quorum" : "classic",
      prefetch: parseIntegerFlag("prefetch", args.prefetch, { min: 1, max: 65_535 }),
      maxN: parseIntegerFlag("max-n", args["max-n"], { min: 0, max: MAX_N_LIMIT }),
      drainTimeoutMs: parseDurationFlag("drain-timeout", args["drain-timeout"]),
      log: createServerLog(args["log-format"] === "json" ? "json" : "pretty", logLevel(args["log-level"])),
    });
    interruption.addEventListener("abort", () => void server.stop(), { once: true });
    await server.run();
  },
});

function logLevel(name: string | undefined): LogLevelName {
  return LOG_LEVELS.find((level) => level === name) ?? "info";
}
