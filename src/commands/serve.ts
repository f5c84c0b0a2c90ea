import { defineCommand } from "citty";
import { LOG_LEVELS, createWorkerLog, type LogLevelName } from "../log.ts";
import { FibServer } from "../rpc/server.ts";
import { showStackTraces } from "../cli/debug.ts";
import { commandArgs, option } from "../cli/options.ts";
import { Options } from "../cli/read-options.ts";
import { interruption, stopSignal } from "../cli/signals.ts";
import { brokerArgs, brokerOptionsFrom, queueFrom } from "./_shared.ts";

/** Defaults chosen by measurement: see "Why these defaults" in the README. */
export const DEFAULT_PREFETCH = 64;
export const DEFAULT_MAX_N = 100_000;
const MAX_N_LIMIT = 10_000_000;

const serveArgs = commandArgs("serve", {
  ...brokerArgs,
  prefetch: option({
    description: "Requests taken from the queue ahead of being answered",
    fallback: String(DEFAULT_PREFETCH),
    valueHint: "count",
    legacyUnprefixedEnv: true,
  }),
  "max-n": option({
    description: "Largest n answered; above it callers get OUT_OF_RANGE",
    fallback: String(DEFAULT_MAX_N),
    valueHint: "n",
    legacyUnprefixedEnv: true,
  }),
  "drain-timeout": option({ description: "On shutdown, how long to finish in-flight work", fallback: "10s", valueHint: "duration", legacyUnprefixedEnv: true }),
  "queue-type": option({
    description: "Kind of durable queue to declare when it does not exist (an existing queue is used as it is)",
    fallback: "quorum",
    choices: ["classic", "quorum"],
    legacyUnprefixedEnv: true,
  }),
  "log-format": option({ description: "Log lines on stderr as text or JSON", fallback: "pretty", choices: ["pretty", "json"], legacyUnprefixedEnv: true }),
  "log-level": option({ description: "Least severe level logged", fallback: "info", choices: LOG_LEVELS, legacyUnprefixedEnv: true }),
  http: option({
    description: "Serve /metrics (Prometheus), /livez and /readyz on this address, e.g. :9464 or 127.0.0.1:9464; off when not given",
    valueHint: "addr",
    legacyUnprefixedEnv: true, // issue #12 named it FIBRPC_HTTP before the FIBRPC_<COMMAND>_<FLAG> rule
  }),
});

export default defineCommand({
  meta: { name: "serve", description: "Run the Fibonacci worker on a queue until SIGTERM, SIGINT or SIGHUP" },
  args: serveArgs,
  async run({ args, rawArgs }) {
    const read = new Options(serveArgs, args, rawArgs);
    const level = logLevel(read.text("log-level"));
    if (level === "debug") showStackTraces();
    const log = createWorkerLog(read.text("log-format") === "json" ? "json" : "pretty", level);
    const queue = queueFrom(read);
    const httpAddress = read.text("http");
    // Imported only with --http: without it, the HTTP code is never initialised (nor by any other command).
    const endpoint = httpAddress === undefined ? undefined : (await import("../ops/endpoint.ts")).OperatorEndpoint.prepare(httpAddress, queue);
    const server = new FibServer({
      broker: brokerOptionsFrom(read),
      queue,
      queueKind: read.text("queue-type") === "classic" ? "classic" : "quorum",
      prefetch: read.integer("prefetch", { min: 1, max: 65_535 }),
      maxN: read.integer("max-n", { min: 0, max: MAX_N_LIMIT }),
      drainTimeoutMs: read.duration("drain-timeout"),
      log,
      observer: endpoint?.metrics,
    });
    // Through the log, so that --log-format json stays all JSON.
    for (const warning of read.warnings) log.warn(warning);
    if (endpoint !== undefined) log.info(`HTTP on ${await endpoint.listen(server, log)}: /metrics, /livez, /readyz`);
    interruption.addEventListener("abort", () => void server.stop(stopSignal()), { once: true });
    try {
      await server.run();
    } finally {
      endpoint?.stop();
    }
  },
});

function logLevel(name: string): LogLevelName {
  return LOG_LEVELS.find((level) => level === name) ?? "info";
}
