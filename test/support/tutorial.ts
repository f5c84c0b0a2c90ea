import { resolve } from "node:path";
import type { Subprocess } from "bun";
import { BROKER_URL } from "./broker.ts";

/**
 * The independent tutorial-style programs in test/interop (Python with Debian's python3-pika,
 * which scripts/test-env.sh installs): a peer that is not fibrpc, on both sides of the wire.
 * Debian's python3 is used on purpose: pika is installed for it, not for any other python.
 */
const PYTHON = "/usr/bin/python3";
const INTEROP = resolve(import.meta.dir, "../interop");

export type QueueKind = "classic" | "quorum";

/** The tutorial's RPC server, consuming on `queue` (declared the way the tutorial does for `kind`). */
export class TutorialServer {
  private output = "";

  private constructor(private readonly proc: Subprocess<"ignore", "pipe", "pipe">) {
    void (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of proc.stdout) this.output += decoder.decode(chunk, { stream: true });
    })();
  }

  /** The traceparent headers of the requests it took, in order. */
  get traceparents(): string[] {
    return [...this.output.matchAll(/^traceparent (\S+)$/gm)].map((match) => match[1] ?? "");
  }

  static async start(queue: string, kind: QueueKind): Promise<TutorialServer> {
    const proc = Bun.spawn([PYTHON, `${INTEROP}/tutorial_server.py`, BROKER_URL, queue, kind], {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    const reader = proc.stdout.getReader();
    // A server that never says "ready" is killed, which ends the read.
    const killer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
    const first = await reader.read().finally(() => clearTimeout(killer));
    reader.releaseLock();
    const line = first.value === undefined ? "" : new TextDecoder().decode(first.value);
    if (!line.includes("ready")) {
      proc.kill("SIGKILL");
      throw new Error(`tutorial server did not start: ${await new Response(proc.stderr).text()}`);
    }
    return new TutorialServer(proc);
  }

  async stop(): Promise<void> {
    this.proc.kill("SIGTERM");
    const timer = setTimeout(() => this.proc.kill("SIGKILL"), 2_000);
    await this.proc.exited;
    clearTimeout(timer);
  }
}

/** Runs the tutorial's RPC client for `ns` and returns its exit code and output. */
export async function runTutorialClient(queue: string, ns: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn([PYTHON, `${INTEROP}/tutorial_client.py`, BROKER_URL, queue, ...ns], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const killer = setTimeout(() => proc.kill("SIGKILL"), 20_000);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(killer);
  return { code, stdout, stderr };
}
