import { FibrpcError } from "../errors.ts";
import { sanitize } from "./secrets.ts";

/**
 * The one way every command writes: results to stdout, messages to stderr. A stdout whose
 * reader went away (`fibrpc call ... | head -1`) ends the command quietly (exit 141, as a
 * coreutils program killed by SIGPIPE); one that cannot be written (`>/dev/full`) is one line
 * on stderr (exit 74; health: UNKNOWN). stderr itself failing has nowhere to be reported.
 */
export async function writeStdout(text: string): Promise<void> {
  try {
    await Bun.write(Bun.stdout, text);
  } catch (error) {
    throw stdoutError(error);
  }
}

export function stdoutError(error: unknown): FibrpcError {
  const code = typeof error === "object" && error !== null && "code" in error ? String(error.code) : undefined;
  if (code === "EPIPE") return new FibrpcError("output-closed", "stdout was closed by its reader", { cause: error });
  const reason = code ?? (error instanceof Error ? error.message : String(error));
  return new FibrpcError("output-failed", `cannot write to stdout: ${reason}`, { cause: error });
}

/** One message line on stderr, sanitised; a failure to write it is ignored (there is nowhere left to say so). */
export async function writeStderrLine(line: string): Promise<void> {
  await Bun.write(Bun.stderr, `${sanitize(line)}\n`).catch(() => {});
}

/** A warning about the command's own settings, on stderr (serve sends them to its log instead). */
export async function warnOnStderr(message: string): Promise<void> {
  await writeStderrLine(`fibrpc: WARNING: ${message}`);
}

/** Log lines and progress are written with process.stderr; a closed or full stderr must not crash the program. */
export function ignoreStderrErrors(): void {
  process.stderr.on("error", () => {});
}
