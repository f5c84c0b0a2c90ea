import { defineCommand, type ArgsDef } from "citty";
import { LOG_LEVELS, createWorkerLog, type LogLevelName } from "../log.ts";
import { FibServer } from "../rpc/server.ts";
import { parseDurationFlag, parseIntegerFlag } from "../cli/flags.ts";
import { option, readOption } from "../cli/options.ts";
import { interruption } from "../cli/signals.ts";
import { brokerArgs, brokerOptionsFrom, queueFrom } from "./_shared.ts";

/** Defaults chosen by measurement: see "Why these defaults" in the README. */
export const DEFAULT_PREFETCH = 64;
export const DEFAULT_MAX_N = 100_000;
const MAX_N_LIMIT = 10_000_000;

const serveArgs = {
  ...brokerArgs,
  prefetch: option({ description: "Requests taken from the queue ahead of being answered", env: "FIBRPC_PREFETCH", fallback: String(DEFAULT_PREFETCH), valueHint: "count" }),
  "max-n": option({ description: "Largest n answered; above it callers get OUT_OF_RANGE", env: "FIBRPC_MAX_N", fallback: String(DEFAULT_MAX_N), valueHint: "n" }),
  "drain-timeout": option({ description: "On shutdown, how long to finish in-flight work", env: "FIBRPC_DRAIN_TIMEOUT", fallback: "10s", valueHint: "duration" }),
  "queue-type": option({
    description: "Kind of durable queue to declare when it does not exist (an existing queue is used as it is)",
    env: "FIBRPC_QUEUE_TYPE",
    fallback: "quorum",
    choices: ["classic", "quorum"],
  }),
  "log-format": option({ description: "Log lines on stderr as text or JSON", env: "FIBRPC_LOG_FORMAT", fallback: "pretty", choices: ["pretty", "json"] }),
  "log-level": option({ description: "Least severe level logged", env: "FIBRPC_LOG_LEVEL", fallback: "info", choices: LOG_LEVELS }),
  http: option({
    description: "Serve /metrics (Prometheus), /livez and /readyz on this address, e.g. :9464 or 127.0.0.1:9464; off when not given",
    env: "FIBRPC_SERVE_HTTP",
    valueHint: "addr",
  }),
} as const satisfies ArgsDef;

export default defineCommand({
  meta: { name: "serve", description: "Run the Fibonacci worker on a queue until SIGTERM/SIGINT" },
  args: serveArgs,
  async run({ args }) {
    // Every option but the one boolean (--insecure, from brokerArgs) is a string read the same way.
    const read = (name: Exclude<keyof typeof serveArgs, "insecure">): string => readOption(name, args[name], serveArgs[name]) ?? "";
    const log = createWorkerLog(read("log-format") === "json" ? "json" : "pretty", logLevel(read("log-level")));
    const queue = queueFrom(args);
    const httpAddress = readOption("http", args.http, serveArgs.http);
    // Imported only with --http: without it, the HTTP code is never initialised (nor by any other command).
    const endpoint = httpAddress === undefined ? undefined : (await import("../ops/endpoint.ts")).OperatorEndpoint.prepare(httpAddress, queue);
    const server = new FibServer({
      broker: brokerOptionsFrom(args, (message) => log.warn(message)), // as JSON too with --log-format json
      queue,
      queueKind: read("queue-type") === "classic" ? "classic" : "quorum",
      prefetch: parseIntegerFlag("prefetch", read("prefetch"), { min: 1, max: 65_535 }),
      maxN: parseIntegerFlag("max-n", read("max-n"), { min: 0, max: MAX_N_LIMIT }),
      drainTimeoutMs: parseDurationFlag("drain-timeout", read("drain-timeout")),
      log,
      observer: endpoint?.metrics,
    });
    if (endpoint !== undefined) log.info(`HTTP on ${await endpoint.listen(server, log)}: /metrics, /livez, /readyz`);
    interruption.addEventListener("abort", () => void server.stop(String(interruption.reason)), { once: true });
    try {
      await server.run();
    } finally {
      endpoint?.stop();
    }
  },
});

function logLevel(name: string | undefined): LogLevelName {
  return LOG_LEVELS.find((level) => level === name) ?? "info";
}
