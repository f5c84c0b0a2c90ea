import { defineCommand } from "citty";
import { FibrpcError, InterruptedError, UsageError } from "../errors.ts";
import { formatNSpec, parseNSpec, pickN } from "../bench/n-spec.ts";
import { CLEAR_LINE, formatProgress, redrawLine } from "../bench/progress.ts";
import { formatErrors, formatSummary, summarize, type BenchSummary } from "../bench/summary.ts";
import { BenchTally, ExpectedAnswers } from "../bench/tally.ts";
import { LoadGenerator, type LoadGoal } from "../bench/load-generator.ts";
import { requestTraces } from "../call/trace-env.ts";
import { commandArgs, flag, option } from "../cli/options.ts";
import { writeStdout, warnOnStderr } from "../cli/output.ts";
import { Options, type Setting } from "../cli/read-options.ts";
import { interruption, rejectOnInterrupt, stopSignal } from "../cli/signals.ts";
import { parseDurationSetting, parseIntegerSetting } from "../cli/values.ts";
import { brokerArgs, brokerOptionsFrom, queueFrom } from "./_shared.ts";

const DEFAULT_REQUESTS = 10_000;
const PROGRESS_EVERY_MS = 250;

const benchArgs = commandArgs("bench", {
  ...brokerArgs,
  concurrency: option({ description: "Requests in flight at any time", fallback: "64", valueHint: "count" }),
  requests: option({ description: `Stop after this many requests (default ${DEFAULT_REQUESTS} when --duration is not given)`, valueHint: "count" }),
  duration: option({ description: "Stop after this long instead: 10s, 1m", valueHint: "duration" }),
  n: option({ description: "The n of every request, or a range drawn from uniformly: 30, 20..40", fallback: "30", valueHint: "n|min..max" }),
  connections: option({ description: "Connections the requests are spread over", fallback: "1", valueHint: "count" }),
  timeout: option({ description: "A request unanswered this long counts as TIMEOUT", fallback: "10s", valueHint: "duration" }),
  json: flag({ description: "The summary as one JSON object on stdout" }),
});

export default defineCommand({
  meta: { name: "bench", description: "Load the worker with requests, verify every answer, report calls/s and latency" },
  args: benchArgs,
  async run({ args, rawArgs }) {
    const read = new Options(benchArgs, args, rawArgs);
    const n = read.setting("n");
    const nSpec = parseNSpec(n?.text ?? "30", n?.from);
    const concurrency = read.integer("concurrency", { min: 1, max: 100_000 });
    // More connections than requests in flight would leave some idle.
    const connections = Math.min(read.integer("connections", { min: 1, max: 1_000 }), concurrency);
    const goal = goalFrom(read.setting("requests"), read.setting("duration"));
    const json = read.flag("json");
    const queue = queueFrom(read);
    const broker = brokerOptionsFrom(read);
    const timeoutMs = read.duration("timeout");
    for (const warning of read.warnings) await warnOnStderr(warning);
    const tally = new BenchTally();

    const generator = await Promise.race([
      LoadGenerator.connect({
        broker,
        queue,
        concurrency,
        connections,
        goal,
        timeoutMs,
        nextN: () => pickN(nSpec),
        expected: new ExpectedAnswers(),
        tally,
        traceFor: requestTraces(process.env),
      }),
      rejectOnInterrupt(),
    ]);
    if (!generator.coalescingWrites) await warnOnStderr("write coalescing could not be applied (amqplib's internals moved): expect fewer calls/s");
    const stopOnSignal = (): void => generator.stop();
    interruption.addEventListener("abort", stopOnSignal, { once: true });
    const stopProgress = showProgress(tally, generator, goal);
    try {
      await generator.run();
    } finally {
      stopProgress();
      interruption.removeEventListener("abort", stopOnSignal);
      await generator.close();
    }

    const summary = summarize({
      queue,
      n: formatNSpec(nSpec),
      concurrency,
      connections,
      ok: tally.ok,
      errors: tally.errors,
      elapsedMs: generator.elapsedMs,
      latency: tally.latency,
    });
    await writeStdout(json ? `${JSON.stringify(summary)}\n` : formatSummary(summary));
    if (interruption.aborted) throw new InterruptedError(stopSignal());
    if (generator.failure) throw generator.failure;
    if (summary.failed > 0) throw failuresError(summary);
  },
});

function goalFrom(requests: Setting | undefined, duration: Setting | undefined): LoadGoal {
  if (requests !== undefined && duration !== undefined) throw new UsageError(`give --requests or --duration, not both (${requests.from}, ${duration.from})`);
  if (duration !== undefined) return { durationMs: parseDurationSetting(duration) };
  return { requests: requests === undefined ? DEFAULT_REQUESTS : parseIntegerSetting(requests, { min: 1, max: 1e12 }) };
}

/** Exit 1 when anything failed: a benchmark that drops or corrupts answers has not passed. */
function failuresError(summary: BenchSummary): FibrpcError {
  return new FibrpcError("requests-failed", `${summary.failed} of ${summary.calls} calls failed: ${formatErrors(summary.errors)}`);
}

/** A progress line redrawn on stderr, only when stderr is a terminal; returns the function that erases it. */
function showProgress(tally: BenchTally, generator: LoadGenerator, goal: LoadGoal): () => void {
  if (process.stderr.isTTY !== true) return () => {};
  let lastDone = 0;
  let lastAt = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    const recentRate = ((tally.done - lastDone) * 1000) / Math.max(1, now - lastAt);
    lastDone = tally.done;
    lastAt = now;
    process.stderr.write(redrawLine(formatProgress({ done: tally.done, failed: tally.failed, elapsedMs: generator.elapsedMs, recentRate, goal })));
  }, PROGRESS_EVERY_MS);
  return () => {
    clearInterval(timer);
    process.stderr.write(CLEAR_LINE);
  };
}
