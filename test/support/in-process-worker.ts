/**
 * A FibServer run inside the test process, for the integration tier: the test sees its log
 * lines and observer events as data, and its errors as typed values, not as text on stderr.
 */
import { FibServer, type ServerOptions } from "../../src/rpc/server.ts";
import type { FinishedRequest, WorkerObserver } from "../../src/rpc/worker-events.ts";
import type { LogFields, WorkerLog } from "../../src/rpc/worker-log.ts";
import { BROKER_URL, eventually } from "./broker.ts";

export interface LogEntry {
  level: "debug" | "info" | "warn" | "error";
  message: string;
  fields: LogFields | undefined;
}

export class RecordingLog implements WorkerLog {
  readonly entries: LogEntry[] = [];
  debug(message: string, fields?: LogFields): void {
    this.entries.push({ level: "debug", message, fields });
  }
  info(message: string, fields?: LogFields): void {
    this.entries.push({ level: "info", message, fields });
  }
  warn(message: string, fields?: LogFields): void {
    this.entries.push({ level: "warn", message, fields });
  }
  error(message: string, fields?: LogFields): void {
    this.entries.push({ level: "error", message, fields });
  }
  matching(pattern: RegExp): LogEntry[] {
    return this.entries.filter((entry) => pattern.test(entry.message));
  }
}

export class RecordingObserver implements WorkerObserver {
  readonly finished: FinishedRequest[] = [];
  reconnects = 0;
  requestFinished(request: FinishedRequest): void {
    this.finished.push(request);
  }
  reconnected(): void {
    this.reconnects++;
  }
}

export interface InProcessWorker {
  server: FibServer;
  log: RecordingLog;
  observer: RecordingObserver;
  /** The promise run() returned: settles when the worker stopped or could not start. */
  running: Promise<void>;
  /** What run() threw, once it has settled; undefined when it stopped without one. */
  failure(): Promise<unknown>;
  stop(): Promise<void>;
}

/** Starts a worker on `queue`; resolves once it consumes (or throws what run() threw). */
export async function startWorker(queue: string, overrides: Partial<ServerOptions> = {}): Promise<InProcessWorker> {
  const worker = launchWorker(queue, overrides);
  let failure: unknown;
  worker.running.catch((error: unknown) => {
    failure = error;
  });
  await eventually(() => failure !== undefined || worker.server.status().state === "consuming", 15_000, 10);
  if (failure !== undefined) throw failure;
  if (worker.server.status().state !== "consuming") {
    await worker.stop();
    throw new Error(`in-process worker did not start consuming: ${worker.log.entries.map((entry) => entry.message).join(" | ")}`);
  }
  return worker;
}

/** Starts a worker without waiting: for tests of how it fails to start. */
export function launchWorker(queue: string, overrides: Partial<ServerOptions> = {}): InProcessWorker {
  const log = new RecordingLog();
  const observer = new RecordingObserver();
  const server = new FibServer({
    broker: { urls: [BROKER_URL] },
    queue,
    queueKind: "quorum",
    prefetch: 16,
    maxN: 10_000,
    drainTimeoutMs: 5000,
    log,
    observer,
    ...overrides,
  });
  const running = server.run();
  const failure = () =>
    running.then(
      () => undefined,
      (error: unknown) => error,
    );
  return { server, log, observer, running, failure, stop: () => server.stop() };
}
