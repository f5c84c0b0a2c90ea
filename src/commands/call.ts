import { defineCommand } from "citty";
import { FibrpcError, InterruptedError, UsageError } from "../errors.ts";
import { jsonLine, plainLine, type Answer } from "../call/format.ts";
import { parseCallN } from "../call/parse-n.ts";
import { streamCalls } from "../call/stream.ts";
import { requestTraces } from "../call/trace-env.ts";
import { callMany, type CallOutcome } from "../rpc/calls.ts";
import { RequestEngine } from "../rpc/request-engine.ts";
import { commandArgs, flag, option } from "../cli/options.ts";
import { writeStdout, warnOnStderr } from "../cli/output.ts";
import { Options } from "../cli/read-options.ts";
import { interruption, rejectOnInterrupt, stopSignal } from "../cli/signals.ts";
import { brokerArgs, brokerOptionsFrom, queueFrom } from "./_shared.ts";

/** With `call -`: lines between read and written. Chosen by measurement (docs/benchmark.md). */
const DEFAULT_WINDOW = 64;
const MAX_WINDOW = 10_000;

const callArgs = commandArgs("call", {
  // One spelling in --help, usage line and argument list alike: N...|-.
  "n...|-": { type: "positional", description: "One or more non-negative integers, or - to read them from stdin, one per line", required: true },
  ...brokerArgs,
  timeout: option({ description: "Give up after this long: 2, 0.5, 500ms, 1m", fallback: "10s", valueHint: "duration", legacyUnprefixedEnv: true }),
  json: flag({ description: "One JSON object per n on stdout, errors included", legacyUnprefixedEnv: true }),
  window: option({
    description: "With -: requests in flight at most (each line's answer is written in input order as soon as it can be)",
    fallback: String(DEFAULT_WINDOW),
    valueHint: "count",
    legacyUnprefixedEnv: true, // issue #15 named it FIBRPC_WINDOW before the FIBRPC_<COMMAND>_<FLAG> rule
  }),
  "wait-for-server": flag({
    description: "Wait up to --timeout for a worker to appear instead of failing at once with exit 3",
    legacyUnprefixedEnv: true,
  }),
  "reply-queue": option({
    description: "Where replies come back: direct reply-to, or an exclusive queue for brokers without it",
    fallback: "direct",
    choices: ["direct", "exclusive"],
    legacyUnprefixedEnv: true,
  }),
});

export default defineCommand({
  meta: { name: "call", description: "Ask the worker for F(n), one line per n on stdout, in argument order (or per stdin line with -)" },
  args: callArgs,
  async run({ args, rawArgs }) {
    const read = new Options(callArgs, args, rawArgs);
    const given = args._;
    const streaming = given.length === 1 && given[0] === "-";
    const ns = streaming ? [] : given.map(parseCallN);
    if (!streaming && ns.length === 0) throw new UsageError("call needs at least one n, e.g. 'fibrpc call 30', or - to read them from stdin");
    const timeoutMs = read.duration("timeout");
    const window = read.integer("window", { min: 1, max: MAX_WINDOW });
    // Connecting counts against --timeout: a one-shot call is bounded by it as a whole.
    const deadlineMs = Date.now() + timeoutMs;
    const waitForServer = read.flag("wait-for-server");
    const replyQueue = read.text("reply-queue") === "exclusive" ? "exclusive" : "direct";
    const json = read.flag("json");
    const broker = brokerOptionsFrom(read);
    const queue = queueFrom(read);
    for (const warning of read.warnings) await warnOnStderr(warning);
    const engine = await Promise.race([
      RequestEngine.open(
        { broker, queue, replyQueue, timeoutMs, traceFor: requestTraces(process.env) },
        { deadlineMs, serverCheck: waitForServer ? "wait" : "fail-fast", watchServer: true },
      ),
      rejectOnInterrupt(),
    ]);
    if (streaming) {
      try {
        const { firstFailure } = await streamCalls({ engine, input: Bun.stdin.stream(), write: writeStdout, window, json, timeoutMs, stop: interruption });
        if (interruption.aborted) throw new InterruptedError(stopSignal());
        if (firstFailure) throw describeFailure(firstFailure, 0);
      } finally {
        await engine.close();
      }
      return;
    }
    let outcomes: CallOutcome[];
    try {
      outcomes = await Promise.race([callMany(engine, ns, deadlineMs), rejectOnInterrupt()]);
    } finally {
      await engine.close();
    }
    await writeStdout(json ? outcomes.map((outcome) => jsonLine(outcome)).join("") : formatPlain(outcomes));
    const failures = outcomes.filter((outcome) => !outcome.ok);
    const [firstFailure] = failures;
    if (firstFailure) throw describeFailure(firstFailure, failures.length - 1);
  },
});

/** Plain output stops at the first failure, so line i of stdout is always the answer for argument i. */
function formatPlain(outcomes: readonly CallOutcome[]): string {
  let text = "";
  for (const outcome of outcomes) {
    if (!outcome.ok) break;
    text += plainLine(outcome);
  }
  return text;
}

/** The one line on stderr for the first failure (in input order), whose kind decides the exit code. */
function describeFailure(failure: Answer & { ok: false }, others: number): FibrpcError {
  const more = others > 0 ? ` (and ${others} more failed)` : "";
  // A usage error of `call -` already says which line; any other failure names its line and n.
  const where = failure.error.kind === "usage" ? "" : failure.line === undefined ? `n=${failure.n}: ` : `line ${failure.line} (n=${failure.n}): `;
  const { kind, code, hint, message } = failure.error;
  return new FibrpcError(kind, `${where}${message}${more}`, { cause: failure.error, code, ...(hint === undefined ? {} : { hint }) });
}
