import type { FibrpcError } from "../errors.ts";
import type { CallOutcome } from "../rpc/calls.ts";
import { withHint } from "../cli/hints.ts";
import { sanitize } from "../cli/secrets.ts";

/** What `call` prints for one n; `line` is the input line's number with `call -`. */
export type Answer = (CallOutcome | { n?: undefined; ok: false; error: FibrpcError; traceId?: undefined }) & { line?: number | undefined };

/** Plain output: the digits, one line. (A failure is never printed on stdout: it ends plain output.) */
export function plainLine(answer: Answer & { ok: true }): string {
  return `${answer.value}\n`;
}

/** --json: one object per line, errors included, so a script sees every outcome. */
export function jsonLine(answer: Answer): string {
  const where = answer.line === undefined ? {} : { line: answer.line };
  const n = answer.n === undefined ? {} : { n: answer.n };
  const body = answer.ok
    ? { ok: true, value: answer.value }
    : // A server's code and message are a peer's text: sanitised like every line we show.
      { ok: false, error: { kind: answer.error.kind, code: sanitize(answer.error.code), message: sanitize(withHint(answer.error)) } };
  const trace = answer.traceId === undefined ? {} : { trace_id: answer.traceId };
  return `${JSON.stringify({ ...where, ...n, ...body, ...trace })}\n`;
}
