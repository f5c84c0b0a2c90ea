import { defineCommand } from "citty";
import { FibrpcError, InterruptedError, TimeoutError } from "../errors.ts";
import { exitCodeFor } from "../exit-codes.ts";
import { formatDurationMs } from "../duration.ts";
import { evaluate } from "../health/evaluate.ts";
import { formatJson, formatStatusLine, formatUnknownJson, formatUnknownLine } from "../health/format.ts";
import { observe, type ObserveStage } from "../health/observe.ts";
import { STATE_EXIT_CODES } from "../health/states.ts";
import { DEFAULT_THRESHOLD_TEXTS, parseThresholds, type Thresholds } from "../health/thresholds.ts";
import { lastBooleanOf, valuesOf } from "../cli/argv.ts";
import { STANDARD_FAILURES, type FailureConvention } from "../cli/failure.ts";
import { commandArgs, flag, option } from "../cli/options.ts";
import { writeStdout, warnOnStderr } from "../cli/output.ts";
import { Options } from "../cli/read-options.ts";
import { sanitize } from "../cli/secrets.ts";
import { rejectOnInterrupt } from "../cli/signals.ts";
import { parseBoolean } from "../cli/values.ts";
import { DEFAULT_QUEUE } from "../protocol.ts";
import { within } from "../within.ts";
import { brokerArgs, brokerOptionsFrom, queueFrom } from "./_shared.ts";

const healthArgs = commandArgs("health", {
  ...brokerArgs,
  "min-consumers": option({
    description: "CRITICAL below this many consumers on the queue",
    fallback: DEFAULT_THRESHOLD_TEXTS.minConsumers,
    valueHint: "count",
  }),
  "backlog-warning": option({
    description: "WARNING when messages ready fall outside this range",
    fallback: DEFAULT_THRESHOLD_TEXTS.backlogWarning,
    valueHint: "range",
  }),
  "backlog-critical": option({
    description: "CRITICAL when messages ready fall outside this range",
    fallback: DEFAULT_THRESHOLD_TEXTS.backlogCritical,
    valueHint: "range",
  }),
  "rtt-warning": option({
    description: "WARNING when the probe's round trip (seconds, or 500ms) falls outside this range",
    fallback: DEFAULT_THRESHOLD_TEXTS.rttWarning,
    valueHint: "range",
  }),
  "rtt-critical": option({
    description: "CRITICAL when the probe's round trip falls outside this range",
    fallback: DEFAULT_THRESHOLD_TEXTS.rttCritical,
    valueHint: "range",
  }),
  timeout: option({ description: "UNKNOWN if the whole check has not finished after this long", fallback: "10s", valueHint: "duration", alias: "t" }),
  probe: flag({ description: "Send one real request, F(90), and check its answer and round trip; --no-probe skips it", fallback: true }),
  json: flag({ description: "One JSON object on stdout instead of the status line" }),
});

/** The thresholds, each error naming where its bad value came from (a flag or a variable). */
function thresholdsFrom(read: Options<typeof healthArgs>): Thresholds {
  const minConsumers = read.setting("min-consumers");
  const backlogWarning = read.setting("backlog-warning");
  const backlogCritical = read.setting("backlog-critical");
  const rttWarning = read.setting("rtt-warning");
  const rttCritical = read.setting("rtt-critical");
  return parseThresholds(
    {
      minConsumers: minConsumers?.text ?? DEFAULT_THRESHOLD_TEXTS.minConsumers,
      backlogWarning: backlogWarning?.text ?? DEFAULT_THRESHOLD_TEXTS.backlogWarning,
      backlogCritical: backlogCritical?.text ?? DEFAULT_THRESHOLD_TEXTS.backlogCritical,
      rttWarning: rttWarning?.text ?? DEFAULT_THRESHOLD_TEXTS.rttWarning,
      rttCritical: rttCritical?.text ?? DEFAULT_THRESHOLD_TEXTS.rttCritical,
    },
    {
      minConsumers: minConsumers?.from,
      backlogWarning: backlogWarning?.from,
      backlogCritical: backlogCritical?.from,
      rttWarning: rttWarning?.from,
      rttCritical: rttCritical?.from,
    },
  );
}

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
  async run({ args, rawArgs }): Promise<number> {
    const read = new Options(healthArgs, args, rawArgs);
    const json = read.flag("json");
    const queue = queueFrom(read);
    const broker = brokerOptionsFrom(read);
    const thresholds = thresholdsFrom(read);
    const timeoutMs = read.duration("timeout");
    const probe = read.flag("probe");
    // On stderr: stdout is the plugin's one line.
    for (const warning of read.warnings) await warnOnStderr(warning);

    let stage: ObserveStage = "connecting";
    const deadline = Date.now() + timeoutMs;
    const observing = observe({ broker, queue, probe, probeDeadline: deadline - reserveMs(timeoutMs), onStage: (next) => (stage = next) });
    const observation = await within(Promise.race([observing, rejectOnInterrupt()]), timeoutMs);
    if (observation === undefined) {
      throw new TimeoutError(`${queue}: no result within ${formatDurationMs(timeoutMs)} (-t/--timeout), still ${STAGE_WORDS[stage]}`);
    }
    const result = { observation, verdict: evaluate(observation, thresholds), thresholds };
    await writeStdout(`${sanitize(json ? formatJson(result) : formatStatusLine(result))}\n`);
    return STATE_EXIT_CODES[result.verdict.state];
  },
});

/**
 * A monitoring plugin reports even its own failures in its one status line, as UNKNOWN (3):
 * a bad flag, our own timeout, a bug. 2 would read as CRITICAL. Only a signal ends it
 * otherwise, and a stdout it cannot write leaves stderr as the one place to say so.
 */
export const failures: FailureConvention = {
  exitCode: (error) => (error instanceof InterruptedError ? exitCodeFor(error) : STATE_EXIT_CODES.UNKNOWN),
  async report(error, message, context) {
    if (error instanceof InterruptedError || (error instanceof FibrpcError && error.kind === "output-failed")) {
      return STANDARD_FAILURES.report(error, message, context);
    }
    // The failure may be about the flags themselves: read what can be read, and no more.
    const { rawArgs, env } = context;
    const json = lastBooleanOf(rawArgs, healthArgs, "json") ?? parseBoolean(env[healthArgs.json.env] ?? "") ?? false;
    const queue = valuesOf(rawArgs, healthArgs, "queue").at(-1) ?? env[healthArgs.queue.env] ?? DEFAULT_QUEUE;
    try {
      await writeStdout(`${sanitize(json ? formatUnknownJson(queue, message) : formatUnknownLine(message))}\n`);
    } catch (writeError) {
      if (writeError instanceof FibrpcError && writeError.kind === "output-failed") await STANDARD_FAILURES.report(writeError, writeError.message, context);
    }
  },
};
