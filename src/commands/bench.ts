import { defineCommand, type ArgsDef } from "citty";
import { FibrpcError, InterruptedError, UsageError } from "../errors.ts";
import { formatNSpec, parseNSpec, pickN } from "../bench/n-spec.ts";
import { CLEAR_LINE, formatProgress, redrawLine } from "../bench/progress.ts";
import { formatErrors, formatSummary, summarize, type BenchSummary } from "../bench/summary.ts";
import { BenchTally, ExpectedAnswers } from "../bench/tally.ts";
import { LoadGenerator, type LoadGoal } from "../bench/load-generator.ts";
import { requestTraces } from "../call/trace-env.ts";
import { parseDurationFlag, parseIntegerFlag } from "../cli/flags.ts";
import { flag, option, readFlag, readOption } from "../cli/options.ts";
import { interruption, rejectOnInterrupt } from "../cli/signals.ts";
import { brokerArgs, brokerOptionsFrom, queueFrom } from "./_shared.ts";

const DEFAULT_REQUESTS = 10_000;
const PROGRESS_EVERY_MS = 250;

const benchArgs = {
  ...brokerArgs,
  concurrency: option({ description: "Requests in flight at any time", env: "FIBRPC_BENCH_CONCURRENCY", fallback: "64", valueHint: "count" }),
  requests: option({
    description: `Stop after this many requests (default ${DEFAULT_REQUESTS} when --duration is not given)`,
    env: "FIBRPC_BENCH_REQUESTS",
    valueHint: "count",
  }),
  duration: option({ description: "Stop after this long instead: 10s, 1m", env: "FIBRPC_BENCH_DURATION", valueHint: "duration" }),
  n: option({ description: "The n of every request, or a range drawn from uniformly: 30, 20..40", env: "FIBRPC_BENCH_N", fallback: "30", valueHint: "n|min..max" }),
  connections: option({ description: "Connections the requests are spread over", env: "FIBRPC_BENCH_CONNECTIONS", fallback: "1", valueHint: "count" }),
  timeout: option({ description: "A request unanswered this long counts as TIMEOUT", env: "FIBRPC_TIMEOUT", fallback: "10s", valueHint: "duration" }),
  json: flag({ description: "The summary as one JSON object on stdout", env: "FIBRPC_JSON" }),
} as const satisfies ArgsDef;

export default defineCommand({
  meta: { name: "bench", description: "Load the worker with requests, verify every answer, report calls/s and latency" },
  args: benchArgs,
  async run({ args }) {
    // Every option but the booleans (--json, and --insecure from brokerArgs) is a string read the same way.
    const read = (name: Exclude<keyof typeof benchArgs, "json" | "insecure">): string | undefined =>
      readOption(name, args[name], benchArgs[name]);
    const nSpec = parseNSpec(read("n") ?? "30");
    const concurrency = parseIntegerFlag("concurrency", read("concurrency") ?? "", { min: 1, max: 100_000 });
    // More connections than requests in flight would leave some idle.
    const connections = Math.min(parseIntegerFlag("connections", read("connections") ?? "", { min: 1, max: 1_000 }), concurrency);
    const goal = goalFrom(read("requests"), read("duration"));
    const json = readFlag("json", args.json, benchArgs.json);
    const queue = queueFrom(args);
    const tally = new BenchTally();

    const generator = await Promise.race([
      LoadGenerator.connect({
        broker: brokerOptionsFrom(args),
        queue,
        concurrency,
        connections,
        goal,
        timeoutMs: parseDurationFlag("timeout", read("timeout") ?? ""),
        nextN: () => pickN(nSpec),
        expected: new ExpectedAnswers(),
        tally,
        traceFor: requestTraces(process.env),
      }),
      rejectOnInterrupt(),
    ]);
    if (!generator.coalescingWrites) console.error("fibrpc: note: write coalescing could not be applied (amqplib's internals moved); expect fewer calls/s");
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
    await Bun.write(Bun.stdout, json ? `${JSON.stringify(summary)}\n` : formatSummary(summary));
    if (interruption.aborted) throw new InterruptedError(interruption.reason === "SIGINT" ? "SIGINT" : "SIGTERM");
    if (generator.failure) throw generator.failure;
    if (summary.failed > 0) throw failuresError(summary);
  },
});

function goalFrom(requests: string | undefined, duration: string | undefined): LoadGoal {
  if (requests !== undefined && duration !== undefined) throw new UsageError("give --requests or --duration, not both");
  if (duration !== undefined) return { durationMs: parseDurationFlag("duration", duration) };
  return { requests: requests === undefined ? DEFAULT_REQUESTS : parseIntegerFlag("requests", requests, { min: 1, max: 1e12 }) };
}

/** Exit 1 when anything failed: a benchmark that drops or corrupts answers has not passed. */
function failuresError(summary: BenchSummary): FibrpcError {
  return new FibrpcError("server-error", `${summary.failed} of ${summary.calls} calls failed: ${formatErrors(summary.errors)}`);
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
