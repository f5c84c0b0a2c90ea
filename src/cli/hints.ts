import type { ErrorHint } from "../errors.ts";

/** The library's hints in the command line's words: which flag (and variable) to reach for. */
const HINT_TEXT: Record<ErrorHint, string> = {
  "trust-broker-ca": "trust the broker's CA with --ca (FIBRPC_CA), or skip the check with --insecure",
};

/** An error's message, followed by what to do about it when the error says. */
export function withHint(error: { message: string; hint?: ErrorHint | undefined }): string {
  return error.hint === undefined ? error.message : `${error.message}; ${HINT_TEXT[error.hint]}`;
}
