/** The servers under test as child processes: start, wait until they consume, read their memory, stop. */
import amqp from "amqplib";
import type { Subprocess } from "bun";
import { declareQueue, type QueueKind } from "./queues.ts";

export const BROKER_URL = process.env.AMQP_URL || "amqp://guest:guest@127.0.0.1:5672";

export interface ServerSpec {
  key: string;
  label: string;
  /** The kind of queue it is measured on, declared before it starts (it adopts the queue as it is). */
  kind: QueueKind;
  argv: (queue: string) => string[];
}

export interface RunningServer {
  spec: ServerSpec;
  queue: string;
  proc: Subprocess<"ignore", "ignore", "pipe">;
}

export async function startServer(spec: ServerSpec, queue: string): Promise<RunningServer> {
  await declareQueue(queue, spec.kind);
  const proc = Bun.spawn(spec.argv(queue), {
    env: { ...process.env, AMQP_URL: BROKER_URL, NO_COLOR: "1" },
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
  });
  if (!(await waitForConsumer(queue, 15_000))) {
    proc.kill("SIGKILL");
    const stderr = await new Response(proc.stderr).text();
    throw new Error(`${spec.label} did not start consuming on '${queue}':\n${stderr.slice(-2000)}`);
  }
  return { spec, queue, proc };
}

export async function stopServer(server: RunningServer): Promise<void> {
  server.proc.kill("SIGTERM");
  const timer = setTimeout(() => server.proc.kill("SIGKILL"), 5000);
  await server.proc.exited;
  clearTimeout(timer);
}

async function waitForConsumer(queue: string, timeoutMs: number): Promise<boolean> {
  const connection = await amqp.connect(BROKER_URL);
  connection.on("error", () => {});
  try {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const channel = await connection.createChannel();
      channel.on("error", () => {}); // a 404 for a queue not declared yet closes the channel
      const state = await channel.checkQueue(queue).catch(() => null);
      if (state !== null) void channel.close().catch(() => {});
      if (state !== null && state.consumerCount > 0) return true;
      await Bun.sleep(50);
    }
    return false;
  } finally {
    await connection.close().catch(() => {});
  }
}

export async function deleteQueues(queues: readonly string[]): Promise<void> {
  const connection = await amqp.connect(BROKER_URL);
  connection.on("error", () => {});
  try {
    for (const queue of queues) {
      const channel = await connection.createChannel();
      channel.on("error", () => {});
      await channel.deleteQueue(queue).catch(() => {});
      void channel.close().catch(() => {});
    }
  } finally {
    await connection.close().catch(() => {});
  }
}

/** Resident set size in MB from /proc (Linux), or NaN when the process is gone. */
export async function rssMb(pid: number): Promise<number> {
  try {
    const status = await Bun.file(`/proc/${pid}/status`).text();
    const match = /^VmRSS:\s+(\d+) kB/m.exec(status);
    return match ? Number(match[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Samples RSS every 100 ms while `during` runs; resolves with its result and the peak seen. */
export async function peakRssDuring<T>(pid: number, during: () => Promise<T>): Promise<{ result: T; peakMb: number }> {
  let peakMb = await rssMb(pid);
  const timer = setInterval(() => {
    void rssMb(pid).then((mb) => {
      if (mb > peakMb || Number.isNaN(peakMb)) peakMb = mb;
    });
  }, 100);
  try {
    const result = await during();
    return { result, peakMb: Math.max(peakMb, await rssMb(pid)) };
  } finally {
    clearInterval(timer);
  }
}
