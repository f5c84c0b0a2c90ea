import { defineCommand, type ArgsDef } from "citty";
import { FibrpcError, UsageError } from "../errors.ts";
import { parseN } from "../protocol.ts";
import { RpcClient, type CallOptions, type CallOutcome } from "../rpc/client.ts";
import { parseDurationFlag } from "../cli/flags.ts";
import { flag, option, readFlag, readOption } from "../cli/options.ts";
import { rejectOnInterrupt } from "../cli/signals.ts";
import { brokerArgs, brokerOptionsFrom, positionals, queueFrom } from "./_shared.ts";

const callArgs = {
  n: { type: "positional", description: "One or more non-negative integers", required: true, valueHint: "n..." },
  ...brokerArgs,
  timeout: option({ description: "Give up after this long: 2, 0.5, 500ms, 1m", env: "FIBRPC_TIMEOUT", fallback: "10s", valueHint: "duration" }),
  json: flag({ description: "One JSON object per n on stdout, errors included", env: "FIBRPC_JSON" }),
  "wait-for-server": flag({
    description: "Wait up to --timeout for a worker to appear instead of failing at once with exit 3",
    env: "FIBRPC_WAIT_FOR_SERVER",
  }),
  "reply-queue": option({
    description: "Where replies come back: direct reply-to, or an exclusive queue for brokers without it",
    env: "FIBRPC_REPLY_QUEUE",
    fallback: "direct",
    choices: ["direct", "exclusive"],
  }),
} as const satisfies ArgsDef;

const MAX_CONNECT_MS = 5000;

export default defineCommand({
  meta: { name: "call", description: "Ask the worker for F(n), one line per n on stdout, in argument order" },
  args: callArgs,
  async run({ args }) {
    const ns = positionals(args).map(parseArgumentN);
    if (ns.length === 0) throw new UsageError("call needs at least one n, e.g. 'fibrpc call 30'");
    const startedAtMs = Date.now();
    const timeoutMs = parseDurationFlag("timeout", readOption("timeout", args.timeout, callArgs.timeout));
    const options: CallOptions = {
      queue: queueFrom(args),
      timeoutMs,
      startedAtMs,
      waitForServer: readFlag("wait-for-server", args["wait-for-server"], callArgs["wait-for-server"]),
      replyQueue: readOption("reply-queue", args["reply-queue"], callArgs["reply-queue"]) === "exclusive" ? "exclusive" : "direct",
    };
    const json = readFlag("json", args.json, callArgs.json);
    // Connecting counts against --timeout, and never takes more than 5 s: a dead host is reported, not waited on.
    const broker = { ...brokerOptionsFrom(args), connectTimeoutMs: Math.min(timeoutMs, MAX_CONNECT_MS) };
    const client = await Promise.race([RpcClient.connect(broker), rejectOnInterrupt()]);
    let outcomes: CallOutcome[];
    try {
      outcomes = await Promise.race([client.callMany(ns, options), rejectOnInterrupt()]);
    } finally {
      await client.close();
    }
    await Bun.write(Bun.stdout, json ? formatJson(outcomes) : formatPlain(outcomes));
    const firstFailure = outcomes.find((outcome) => !outcome.ok);
    if (firstFailure && !firstFailure.ok) throw describeFailure(firstFailure, outcomes);
  },
});

function parseArgumentN(text: string): number {
  const parsed = parseN(text, Number.MAX_SAFE_INTEGER);
  if (parsed.ok) return parsed.n;
  throw new UsageError(`invalid n '${text}': ${parsed.error.code === "OUT_OF_RANGE" ? "too large" : "expected a non-negative decimal integer"}`);
}

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
          : { n: outcome.n, ok: false, error: { kind: outcome.error.kind, code: outcome.error.code, message: outcome.error.message } },
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
