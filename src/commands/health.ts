import { defineCommand, type ArgsDef } from "citty";
import { scrubSecret } from "../redact.ts";
import { FibrpcError, InterruptedError } from "../errors.ts";
import { formatDurationMs } from "../duration.ts";
import { evaluate } from "../health/evaluate.ts";
import { formatJson, formatStatusLine, formatUnknownJson, formatUnknownLine } from "../health/format.ts";
import { observe, type ObserveStage } from "../health/observe.ts";
import { STATE_EXIT_CODES } from "../health/states.ts";
import { DEFAULT_THRESHOLD_TEXTS, parseThresholds } from "../health/thresholds.ts";
import { parseDurationFlag } from "../cli/flags.ts";
import { flag, option, readFlag, readOption } from "../cli/options.ts";
import { rejectOnInterrupt } from "../cli/signals.ts";
import { DEFAULT_QUEUE } from "../protocol.ts";
import { brokerArgs, brokerOptionsFrom, queueFrom } from "./_shared.ts";

const healthArgs = {
  ...brokerArgs,
  "min-consumers": option({
    description: "CRITICAL below this many consumers on the queue",
    env: "FIBRPC_HEALTH_MIN_CONSUMERS",
    fallback: DEFAULT_THRESHOLD_TEXTS.minConsumers,
    valueHint: "count",
  }),
  "backlog-warning": option({
    description: "WARNING when messages ready fall outside this range",
    env: "FIBRPC_HEALTH_BACKLOG_WARNING",
    fallback: DEFAULT_THRESHOLD_TEXTS.backlogWarning,
    valueHint: "range",
  }),
  "backlog-critical": option({
    description: "CRITICAL when messages ready fall outside this range",
    env: "FIBRPC_HEALTH_BACKLOG_CRITICAL",
    fallback: DEFAULT_THRESHOLD_TEXTS.backlogCritical,
    valueHint: "range",
  }),
  "rtt-warning": option({
    description: "WARNING when the probe's round trip (seconds, or 500ms) falls outside this range",
    env: "FIBRPC_HEALTH_RTT_WARNING",
    fallback: DEFAULT_THRESHOLD_TEXTS.rttWarning,
    valueHint: "range",
  }),
  "rtt-critical": option({
    description: "CRITICAL when the probe's round trip falls outside this range",
    env: "FIBRPC_HEALTH_RTT_CRITICAL",
    fallback: DEFAULT_THRESHOLD_TEXTS.rttCritical,
    valueHint: "range",
  }),
  timeout: {
    ...option({
      description: "UNKNOWN if the whole check has not finished after this long",
      env: "FIBRPC_HEALTH_TIMEOUT",
      fallback: "10s",
      valueHint: "duration",
    }),
    alias: "t",
  },
  probe: flag({
    description: "Send one real request, F(90), and check its answer and round trip; --no-probe skips it",
    env: "FIBRPC_HEALTH_PROBE",
    fallback: true,
  }),
  json: flag({ description: "One JSON object on stdout instead of the status line", env: "FIBRPC_HEALTH_JSON" }),
} as const satisfies ArgsDef;

/** Time kept back from the probe so that, when it times out, there is still time to close and report. */
function reserveMs(timeoutMs: number): number {
  return Math.min(1000, timeoutMs * 0.2);
}

const STAGE_WORDS: Record<ObserveStage, string> = {
  connecting: "connecting to the broker",
  inspecting: "looking at the queue",
  probing: "waiting for the probe's answer",
  closing: "closing the connection",
};

export default defineCommand({
  meta: { name: "health", description: "Monitoring check (Nagios/Icinga, cron, Kubernetes, systemd): broker, queue, consumers, backlog, a real round trip" },
  args: healthArgs,
  async run({ args }): Promise<number> {
    let json = false;
    let queue = DEFAULT_QUEUE;
    let url = "";
    try {
      json = readFlag("json", args.json, healthArgs.json);
      queue = queueFrom(args);
      const broker = brokerOptionsFrom(args);
      url = broker.urls[0];
      const thresholds = parseThresholds({
        minConsumers: readOption("min-consumers", args["min-consumers"], healthArgs["min-consumers"]),
        backlogWarning: readOption("backlog-warning", args["backlog-warning"], healthArgs["backlog-warning"]),
        backlogCritical: readOption("backlog-critical", args["backlog-critical"], healthArgs["backlog-critical"]),
        rttWarning: readOption("rtt-warning", args["rtt-warning"], healthArgs["rtt-warning"]),
        rttCritical: readOption("rtt-critical", args["rtt-critical"], healthArgs["rtt-critical"]),
      });
      const timeoutMs = parseDurationFlag("timeout", readOption("timeout", args.timeout, healthArgs.timeout));
      const probe = readFlag("probe", args.probe, healthArgs.probe);

      let stage: ObserveStage = "connecting";
      const deadline = Date.now() + timeoutMs;
      const observation = await Promise.race([
        observe({ broker, queue, probe, probeDeadline: deadline - reserveMs(timeoutMs), onStage: (next) => (stage = next) }),
        Bun.sleep(timeoutMs).then(() => undefined),
        rejectOnInterrupt(),
      ]);
      if (observation === undefined) {
        return await report(json, queue, url, `${queue}: no result within ${formatDurationMs(timeoutMs)} (-t/--timeout), still ${STAGE_WORDS[stage]}`);
      }
      const result = { observation, verdict: evaluate(observation, thresholds), thresholds };
      await print(json ? formatJson(result) : formatStatusLine(result), url);
      return STATE_EXIT_CODES[result.verdict.state];
    } catch (error) {
      if (error instanceof InterruptedError) throw error;
      // A monitoring check reports even its own failures as a status line: UNKNOWN, never a stack trace.
      const message = error instanceof FibrpcError ? error.message : `internal error (a bug; please report it): ${String(error)}`;
      return await report(json, queue, url, message);
    }
  },
});

async function report(json: boolean, queue: string, url: string, message: string): Promise<number> {
  await print(json ? formatUnknownJson(queue, message) : formatUnknownLine(message), url);
  return STATE_EXIT_CODES.UNKNOWN;
}

async function print(line: string, url: string): Promise<void> {
  await Bun.write(Bun.stdout, `${url === "" ? line : scrubSecret(line, url)}\n`);
}
