import { exitCodeFor } from "../exit-codes.ts";
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
