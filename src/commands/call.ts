import { defineCommand } from "citty";
import { FibrpcError, UsageError } from "../errors.ts";
import { parseN } from "../protocol.ts";
import { RpcClient, type CallOutcome } from "../rpc/client.ts";
import { parseDurationFlag } from "../cli/flags.ts";
import { rejectOnInterrupt } from "../cli/signals.ts";
import { brokerArgs, brokerOptionsFrom, positionals } from "./_shared.ts";

export default defineCommand({
  meta: { name: "call", description: "Ask the worker for F(n), one line per n on stdout, in argument order" },
  args: {
    n: { type: "positional", description: "One or more non-negative integers", required: true, valueHint: "n..." },
    ...brokerArgs,
    timeout: { type: "string", description: "Give up after this long (2, 0.5, 500ms, 1m)", default: "10s", valueHint: "duration" },
    json: { type: "boolean", description: "One JSON object per n on stdout, errors included" },
    "wait-for-server": {
      type: "boolean",
      description: "Wait up to --timeout for a worker to appear instead of failing at once with exit 3",
    },
    "reply-queue": {
      type: "enum",
      options: ["direct", "exclusive"],
      default: "direct",
      description: "Where replies come back: direct reply-to, or an exclusive queue for brokers without it",
    },
  },
  async run({ args }) {
    const ns = positionals(args).map(parseArgumentN);
    if (ns.length === 0) throw new UsageError("call needs at least one n, e.g. 'fibrpc call 30'");
    const timeoutMs = parseDurationFlag("timeout", args.timeout);
    const client = await Promise.race([RpcClient.connect(brokerOptionsFrom(args)), rejectOnInterrupt()]);
    let outcomes: CallOutcome[];
    try {
      outcomes = await Promise.race([
        client.callMany(ns, {
          queue: args.queue,
          timeoutMs,
          waitForServer: args["wait-for-server"] === true,
          replyQueue: args["reply-queue"] === "exclusive" ? "exclusive" : "direct",
        }),
        rejectOnInterrupt(),
      ]);
    } finally {
      await client.close();
    }
    await Bun.write(Bun.stdout, args.json === true ? formatJson(outcomes) : formatPlain(outcomes));
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
          : { n: outcome.n, ok: false, error: { kind: outcome.error.kind, code: errorCode(outcome.error), message: outcome.error.message } },
      ),
    )
    .map((line) => `${line}\n`)
    .join("");
}

function errorCode(error: FibrpcError): string {
  return "code" in error && typeof error.code === "string" ? error.code : error.kind.toUpperCase().replace("-", "_");
}

function describeFailure(failure: CallOutcome & { ok: false }, outcomes: readonly CallOutcome[]): FibrpcError {
  const others = outcomes.filter((outcome) => !outcome.ok).length - 1;
  const more = others > 0 ? ` (and ${others} more failed)` : "";
  return new FibrpcError(failure.error.kind, `n=${failure.n}: ${failure.error.message}${more}`, { cause: failure.error });
}
