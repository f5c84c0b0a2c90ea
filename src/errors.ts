/**
 * The one error model of fibrpc. Every expected failure is a FibrpcError whose `kind`
 * decides the exit code (see exit-codes.ts) and whose message is the one line the user
 * sees on stderr. Anything else that escapes is a bug and is reported as such.
 */
export type ErrorKind =
  | "usage" // bad flags, bad n: nothing was sent
  | "server-error" // the worker answered with an error reply
  | "no-server" // the queue is missing or nobody consumes from it
  | "timeout" // no answer within the deadline
  | "unreachable" // refused, DNS, TLS, connection lost
  | "refused" // the broker refused us: authentication, vhost, permissions
  | "requests-failed" // bench: some of its requests failed (counted in its summary)
  | "output-failed" // stdout could not be written (disk full, I/O error)
  | "output-closed" // stdout's reader went away (`| head`): not a failure to report
  | "cannot-listen" // serve --http: the address cannot be listened on (port in use, not this host's)
  | "interrupted"; // SIGINT / SIGTERM / SIGHUP

/** The string code of each kind, as scripts read it (`call --json`); a server's error reply carries its own. */
const CODE_OF_KIND: Record<ErrorKind, string> = {
  usage: "USAGE",
  "server-error": "SERVER_ERROR",
  "no-server": "NO_SERVER",
  timeout: "TIMEOUT",
  unreachable: "UNREACHABLE",
  refused: "REFUSED",
  "requests-failed": "REQUESTS_FAILED",
  "output-failed": "OUTPUT_FAILED",
  "output-closed": "OUTPUT_CLOSED",
  "cannot-listen": "CANNOT_LISTEN",
  interrupted: "INTERRUPTED",
};

/**
 * What the user can do about an error, named by the library, which knows no flags: the command
 * line turns it into flag names (src/cli/hints.ts), another front end into its own words.
 */
export type ErrorHint = "trust-broker-ca";

export interface FibrpcErrorOptions {
  cause?: unknown;
  code?: string;
  hint?: ErrorHint;
}

export class FibrpcError extends Error {
  /** A stable string for scripts and tests to match on (the message is for people and may change). */
  readonly code: string;
  readonly hint: ErrorHint | undefined;

  constructor(
    readonly kind: ErrorKind,
    message: string,
    options?: FibrpcErrorOptions,
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "FibrpcError";
    this.code = options?.code ?? CODE_OF_KIND[kind];
    this.hint = options?.hint;
  }
}

export class UsageError extends FibrpcError {
  constructor(message: string) {
    super("usage", message);
  }
}

/** The worker's error reply, carried to the caller with its wire code (e.g. OUT_OF_RANGE). */
export class ServerReplyError extends FibrpcError {
  constructor(code: string, message: string) {
    super("server-error", `server error ${code}: ${message}`, { code });
  }
}

export class NoServerError extends FibrpcError {
  constructor(message: string) {
    super("no-server", message);
  }
}

export class TimeoutError extends FibrpcError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("timeout", message, options);
  }
}

export class BrokerUnreachableError extends FibrpcError {
  constructor(message: string, options?: { cause?: unknown; code?: string; hint?: ErrorHint }) {
    super("unreachable", message, options);
  }
}

/** The broker's TLS certificate did not verify: a configuration problem (CA, host name), not an outage. */
export class CertificateRejectedError extends BrokerUnreachableError {}

export class BrokerRefusedError extends FibrpcError {
  constructor(message: string, options?: { cause?: unknown; code?: string }) {
    super("refused", message, options);
  }
}

/** `serve --http`: the port is taken or the address is not one of this host's; found out before consuming starts. */
export class CannotListenError extends FibrpcError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("cannot-listen", message, options);
  }
}

export type StopSignal = "SIGINT" | "SIGTERM" | "SIGHUP";

export class InterruptedError extends FibrpcError {
  constructor(readonly signal: StopSignal) {
    super("interrupted", `interrupted by ${signal}`);
  }
}
