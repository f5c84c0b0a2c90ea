import { defineCommand } from "citty";
import { FibrpcError, UsageError } from "../errors.ts";
import { RpcClient, type CallOptions, type CallOutcome } from "../rpc/client.ts";
import { withHint } from "../cli/hints.ts";
import { parseArgumentN } from "../cli/n-argument.ts";
import { commandArgs, flag, option } from "../cli/options.ts";
import { writeStdout, warnOnStderr } from "../cli/output.ts";
import { Options } from "../cli/read-options.ts";
import { sanitize } from "../cli/secrets.ts";
import { rejectOnInterrupt } from "../cli/signals.ts";
import { brokerArgs, brokerOptionsFrom, queueFrom } from "./_shared.ts";

const callArgs = commandArgs("call", {
  "n...": { type: "positional", description: "One or more non-negative integers", required: true },
  ...brokerArgs,
  timeout: option({ description: "Give up after this long: 2, 0.5, 500ms, 1m", fallback: "10s", valueHint: "duration", legacyUnprefixedEnv: true }),
  json: flag({ description: "One JSON object per n on stdout, errors included", legacyUnprefixedEnv: true }),
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

const MAX_CONNECT_MS = 5000;

export default defineCommand({
  meta: { name: "call", description: "Ask the worker for F(n), one line per n on stdout, in argument order" },
  args: callArgs,
  async run({ args, rawArgs }) {
    const read = new Options(callArgs, args, rawArgs);
    const ns = args._.map((text) => parseArgumentN(text));
    if (ns.length === 0) throw new UsageError("call needs at least one n, e.g. 'fibrpc call 30'");
    const startedAtMs = Date.now();
    const timeoutMs = read.duration("timeout");
    const options: CallOptions = {
      queue: queueFrom(read),
      timeoutMs,
      startedAtMs,
      waitForServer: read.flag("wait-for-server"),
      replyQueue: read.text("reply-queue") === "exclusive" ? "exclusive" : "direct",
    };
    const json = read.flag("json");
    // Connecting counts against --timeout, and never takes more than 5 s: a dead host is reported, not waited on.
    const broker = { ...brokerOptionsFrom(read), connectTimeoutMs: Math.min(timeoutMs, MAX_CONNECT_MS) };
    for (const warning of read.warnings) await warnOnStderr(warning);
    const client = await Promise.race([RpcClient.connect(broker), rejectOnInterrupt()]);
    let outcomes: CallOutcome[];
    try {
      outcomes = await Promise.race([client.callMany(ns, options), rejectOnInterrupt()]);
    } finally {
      await client.close();
    }
    await writeStdout(json ? formatJson(outcomes) : formatPlain(outcomes));
    const firstFailure = outcomes.find((outcome) => !outcome.ok);
    if (firstFailure && !firstFailure.ok) throw describeFailure(firstFailure, outcomes);
  },
});

/** Plain output stops at the first failure, so line i of stdout is always the answer for argument i. */
function formatPlain(outcomes: readonly CallOutcome[]): string {
  const lines: string[] = [];
  for (const outcome of outcomes) {
    if (!outcome.ok) break;
    lines.push(outcome.value);
  }
  return lines.map((line) => `${line}\n`).join("");
}

function formatJson(outcomes: readonly CallOutcome[]): string {
  return outcomes
    .map((outcome) =>
      JSON.stringify(
        outcome.ok
          ? { n: outcome.n, ok: true, value: outcome.value }
          : // A server's code and message are a peer's text: sanitised like every line we show.
            { n: outcome.n, ok: false, error: { kind: outcome.error.kind, code: sanitize(outcome.error.code), message: sanitize(withHint(outcome.error)) } },
      ),
    )
    .map((line) => `${line}\n`)
    .join("");
}

function describeFailure(failure: CallOutcome & { ok: false }, outcomes: readonly CallOutcome[]): FibrpcError {
  const others = outcomes.filter((outcome) => !outcome.ok).length - 1;
  const more = others > 0 ? ` (and ${others} more failed)` : "";
  const { kind, code, hint, message } = failure.error;
  return new FibrpcError(kind, `n=${failure.n}: ${message}${more}`, { cause: failure.error, code, ...(hint === undefined ? {} : { hint }) });
}
