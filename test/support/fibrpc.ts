import { existsSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { resolve } from "node:path";
import type { Subprocess } from "bun";
import { afterAll, beforeAll } from "bun:test";
import { BROKER_URL, declareQueue, deleteQueue, eventually, uniqueQueue } from "./broker.ts";

/** The compiled binary under test: `npm test` builds it first. */
export const FIBRPC = resolve(import.meta.dir, "../../dist/fibrpc");

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

function baseEnv(extra: Record<string, string | undefined>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries({ ...process.env, NO_COLOR: "1", AMQP_URL: BROKER_URL, ...extra })) {
    if (value !== undefined) env[key] = value;
  }
  return env;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  /** SIGKILL after this long (default 20 s): a hung binary fails its test instead of the run. */
  timeoutMs?: number;
  binary?: string;
  cwd?: string;
}

/** A `dist/fibrpc` run in progress: its pid (to watch it, or signal it) and its eventual result. */
export interface StartedRun {
  pid: number;
  kill(signal: NodeJS.Signals): void;
  result: Promise<RunResult>;
}

/** Starts `dist/fibrpc ARGS` as a user would; `result` collects exit code, stdout and stderr. */
export function startFibrpc(args: string[], options: RunOptions = {}): StartedRun {
  const started = performance.now();
  const proc = Bun.spawn([options.binary ?? FIBRPC, ...args], {
    env: baseEnv(options.env ?? {}),
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
  });
  const killer = setTimeout(() => proc.kill("SIGKILL"), options.timeoutMs ?? 20_000);
  const result = Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]).then(([stdout, stderr, code]) => {
    clearTimeout(killer);
    return { code, stdout, stderr, ms: performance.now() - started };
  });
  return { pid: proc.pid, kill: (signal) => proc.kill(signal), result };
}

/** Runs `dist/fibrpc ARGS` as a user would and collects exit code, stdout and stderr. */
export function runFibrpc(args: string[], options: RunOptions = {}): Promise<RunResult> {
  return startFibrpc(args, options).result;
}

/** The inodes of the sockets process `pid` has open (Linux /proc). */
function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      const target = readlinkSafe(`/proc/${pid}/fd/${fd}`);
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode !== undefined) inodes.add(inode);
    }
  } catch {
    // The process has exited: it holds no sockets.
  }
  return inodes;
}

function readlinkSafe(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return "";
  }
}

/** Does process `pid` hold an established TCP connection to `port`? Reads /proc/net/tcp{,6}: no tool needed. */
function hasConnectionTo(pid: number, port: number): boolean {
  const inodes = socketInodes(pid);
  const remotePort = port.toString(16).toUpperCase().padStart(4, "0");
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    const rows = existsSync(table) ? readFileSync(table, "utf8").split("\n").slice(1) : [];
    for (const row of rows) {
      // sl local_address rem_address st ... inode (the 10th column)
      const columns = row.trim().split(/\s+/);
      if (columns[2]?.endsWith(`:${remotePort}`) && columns[3] === "01" && inodes.has(columns[9] ?? "")) return true;
    }
  }
  return false;
}

/** True once process `pid` holds an established TCP connection to `port` on this machine (the broker's, by default). */
export async function waitForConnection(pid: number, port = 5672, timeoutMs = 10_000): Promise<boolean> {
  return eventually(() => hasConnectionTo(pid, port), timeoutMs, 20);
}

/** A running `fibrpc serve` with its stderr collected, so tests can wait for log lines. */
export class ServeProcess {
  private logText = "";
  readonly exited: Promise<number>;

  private constructor(readonly proc: Subprocess<"ignore", "pipe", "pipe">) {
    this.exited = proc.exited;
    void this.collect(proc.stderr);
  }

  static async start(
    args: string[],
    env: Record<string, string | undefined> = {},
    options: { binary?: string; startTimeoutMs?: number; waitFor?: RegExp } = {},
  ): Promise<ServeProcess> {
    const proc = Bun.spawn([options.binary ?? FIBRPC, "serve", ...args], {
      env: baseEnv(env),
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    const serve = new ServeProcess(proc);
    const ready = options.waitFor ?? /consuming on queue/;
    if (!(await serve.waitForLog(ready, options.startTimeoutMs ?? 10_000))) {
      proc.kill("SIGKILL");
      throw new Error(`fibrpc serve did not log ${ready}; its stderr:\n${serve.log}`);
    }
    return serve;
  }

  get log(): string {
    return this.logText;
  }

  async waitForLog(pattern: RegExp, timeoutMs = 10_000): Promise<boolean> {
    return eventually(() => pattern.test(this.logText), timeoutMs, 20);
  }

  /** Sends `signal` and waits for the exit code (SIGKILL after `timeoutMs`). */
  async stop(signal: NodeJS.Signals = "SIGTERM", timeoutMs = 15_000): Promise<number> {
    this.proc.kill(signal);
    const timer = setTimeout(() => this.proc.kill("SIGKILL"), timeoutMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  private async collect(stream: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    for await (const chunk of stream) this.logText += decoder.decode(chunk, { stream: true });
  }
}

/**
 * A `fibrpc serve` on a queue of its own for the tests of one describe block: started before
 * them, stopped after them, its queue deleted. Call it inside `describe`, after any `beforeAll`
 * the worker depends on (hooks run in the order they are registered). `declare` makes the queue
 * first, the way another program would, so the worker adopts it.
 */
export function serveDuringSuite(
  label: string,
  args: string[] = [],
  options: { env?: Record<string, string | undefined>; declare?: "classic" | "quorum" } = {},
): { readonly queue: string; readonly serve: ServeProcess } {
  const queue = uniqueQueue(label);
  let serve: ServeProcess | undefined;
  beforeAll(async () => {
    if (options.declare !== undefined) await declareQueue(queue, options.declare);
    serve = await ServeProcess.start(["--queue", queue, ...args], options.env ?? {});
  });
  afterAll(async () => {
    await serve?.stop();
    await deleteQueue(queue);
  });
  return {
    queue,
    get serve(): ServeProcess {
      if (serve === undefined) throw new Error(`fibrpc serve for '${label}' has not started`);
      return serve;
    },
  };
}
