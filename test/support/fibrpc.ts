import { resolve } from "node:path";
import type { Subprocess } from "bun";
import { afterAll, beforeAll } from "bun:test";
import { BROKER_URL, deleteQueue, eventually, uniqueQueue } from "./broker.ts";

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

/** Runs `dist/fibrpc ARGS` as a user would and collects exit code, stdout and stderr. */
export async function runFibrpc(
  args: string[],
  options: { env?: Record<string, string | undefined>; timeoutMs?: number; binary?: string; cwd?: string } = {},
): Promise<RunResult> {
  const started = performance.now();
  const proc = Bun.spawn([options.binary ?? FIBRPC, ...args], {
    env: baseEnv(options.env ?? {}),
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
  });
  const killer = setTimeout(() => proc.kill("SIGKILL"), options.timeoutMs ?? 20_000);
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  clearTimeout(killer);
  return { code, stdout, stderr, ms: performance.now() - started };
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
 * them, stopped after them, its queue deleted. Call it inside `describe`.
 */
export function serveDuringSuite(label: string, args: string[] = []): { readonly queue: string; readonly serve: ServeProcess } {
  const queue = uniqueQueue(label);
  let serve: ServeProcess | undefined;
  beforeAll(async () => {
    serve = await ServeProcess.start(["--queue", queue, ...args]);
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
