import { FibrpcError, InterruptedError, type ErrorKind, type StopSignal } from "./errors.ts";

/**
 * Exit codes of fibrpc's commands (health maps its own: see src/health/failures.ts), each
 * documented in --help (the texts below) and the README.
 */
export const EXIT = {
  ok: 0,
  serverError: 1,
  requestsFailed: 1, // bench: the counts by code are in its summary
  /** serve only (it never gets an error reply, so 1 means nothing else there): --http cannot listen. */
  cannotListen: 1,
  usage: 2,
  noServer: 3,
  timeout: 4,
  unreachable: 5,
  refused: 6,
  internal: 70, // EX_SOFTWARE: a bug, not an expected failure
  outputFailed: 74, // EX_IOERR: stdout could not be written
  outputClosed: 141, // 128 + SIGPIPE, what a coreutils program killed by SIGPIPE exits with
} as const;

/** 128 + the signal's number, as a shell reports a process the signal ended. */
export const EXIT_BY_SIGNAL: Record<StopSignal, number> = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };

const EXIT_BY_KIND: Record<Exclude<ErrorKind, "interrupted">, number> = {
  usage: EXIT.usage,
  "server-error": EXIT.serverError,
  "requests-failed": EXIT.requestsFailed,
  "no-server": EXIT.noServer,
  timeout: EXIT.timeout,
  unreachable: EXIT.unreachable,
  refused: EXIT.refused,
  "output-failed": EXIT.outputFailed,
  "output-closed": EXIT.outputClosed,
  "cannot-listen": EXIT.cannotListen,
};

export function exitCodeFor(error: unknown): number {
  if (error instanceof InterruptedError) return EXIT_BY_SIGNAL[error.signal];
  if (error instanceof FibrpcError && error.kind !== "interrupted") return EXIT_BY_KIND[error.kind];
  return EXIT.internal;
}

/** The lines every command that writes results to stdout shares. */
const OUTPUT_AND_BUGS = `  70   internal error: a bug (one line on stderr; FIBRPC_DEBUG=1 adds the stack trace)
  74   stdout could not be written (disk full, I/O error): one line on stderr
  141  stdout was closed by its reader (e.g. '| head -1'): stops quietly, as coreutils do`;

/** The text that --help of `call` and the README show; kept next to the codes so they never drift. */
export const CALL_EXIT_CODES_HELP = `EXIT CODES

  0    every answer received
  1    the server answered with an error (its code and message on stderr)
  2    bad usage, or an n rejected before sending, or a queue no fibrpc worker serves (a stream)
  3    no server: the queue does not exist or has no consumer, or the request was unroutable
  4    timeout: no answer within --timeout
  5    broker unreachable: refused, DNS, TLS, connection lost mid-call and no listed node took over
  6    broker refused us: authentication, vhost, permissions, a queue exclusive to another
       connection, a full queue that rejects publishes
${OUTPUT_AND_BUGS}
  129  interrupted by SIGHUP
  130  interrupted by SIGINT
  143  interrupted by SIGTERM

  With several n (or lines of call -), the first one (in input order) that failed decides the code.`;

/** Exit codes of `fibrpc bench`, shown by its --help. */
export const BENCH_EXIT_CODES_HELP = `EXIT CODES

  0    every request answered, every answer right
  1    some requests failed: error replies, wrong answers or timeouts (counts by code in the summary)
  2    bad usage
  3    no server: the queue does not exist or has no consumer
  5    broker unreachable, or the connection was lost during the run (the summary is still printed)
  6    broker refused us: authentication, vhost, permissions
${OUTPUT_AND_BUGS}
  129  interrupted by SIGHUP (the summary of what ran is still printed)
  130  interrupted by SIGINT (the same)
  143  interrupted by SIGTERM (the same)`;

/** Exit codes of `fibrpc serve`, shown by its --help. */
export const SERVE_EXIT_CODES_HELP = `EXIT CODES

  0    stopped by SIGTERM, SIGINT or SIGHUP after draining (or when --drain-timeout ran out)
  1    --http cannot listen: the port is in use, or the address is not this host's (before consuming starts)
  2    bad usage (a bad --http address included), or a queue it cannot serve: a stream, a name over 255 bytes
  5    the broker's TLS certificate did not verify on the first connection
  6    the broker refused us on the first connection: authentication, vhost, a permission
       (configure, read or write: the message says which), a queue exclusive to another connection
  70   internal error: a bug (one line on stderr; FIBRPC_DEBUG=1 or --log-level debug adds the stack trace)
  129  a second SIGHUP during the drain stopped it at once
  130  a second SIGINT during the drain stopped it at once
  143  a second SIGTERM during the drain stopped it at once

  A broker that is down or goes away is not an exit: serve reconnects to any listed node (at
  once to one not yet tried, then with backoff from 100 ms up to 3 s), logging one line when
  the connection is lost and one naming the node it is on when it is back.`;
