import { FibrpcError } from "../errors.ts";
import { exitCodeFor } from "../exit-codes.ts";
import { withHint } from "./hints.ts";
import type { Env } from "./read-options.ts";
import { writeStderrLine } from "./output.ts";

/**
 * How a command fails: which exit code an error gets and where its one line goes. Each command
 * states its convention once; the entry point applies it to whatever ended the command, from a
 * bad flag found before it ran to an error thrown deep inside it.
 */
export interface FailureConvention {
  exitCode(error: unknown): number;
  /** Shows `message` (the error in words, hint included) where this command's users look. */
  report(error: unknown, message: string, context: FailureContext): Promise<void>;
}

export interface FailureContext {
  /** The command's arguments, as far as they could be read (the failure may be about them). */
  readonly rawArgs: readonly string[];
  readonly env: Env;
}

/** call, bench, serve: the exit codes of src/exit-codes.ts, one `fibrpc: ...` line on stderr. */
export const STANDARD_FAILURES: FailureConvention = {
  exitCode: exitCodeFor,
  report: (_error, message) => writeStderrLine(`fibrpc: ${message}`),
};

/**
 * The failure in words: an expected one says what happened (with its hint); anything else is a
 * bug and says so, in one line. Its stack trace only when asked for (FIBRPC_DEBUG=1, or
 * serve's --log-level debug): a user's terminal is no place for one by default.
 */
export function describeFailure(error: unknown, stackTraces: boolean): { message: string; details: string[] } {
  if (error instanceof FibrpcError) return { message: withHint(error), details: [] };
  const detail = error instanceof Error ? error.message : String(error);
  const stack = error instanceof Error && stackTraces ? (error.stack?.split("\n") ?? []) : [];
  return { message: `internal error (a bug; please report it): ${detail}${stackTraces ? "" : " (FIBRPC_DEBUG=1 shows where)"}`, details: stack };
}
