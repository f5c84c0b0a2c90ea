/** `fibrpc call -` as a shell pipeline uses it, and the shell loop of one-shot calls it replaces. */
import { FIBRPC } from "./setup.ts";
import { BROKER_URL } from "./processes.ts";

const ENV = { ...process.env, AMQP_URL: BROKER_URL, NO_COLOR: "1" };

export interface StreamRun {
  callsPerSecond: number;
  /** Lines of output that were not the expected answer, or missing. */
  wrong: number;
}

/** `seq`-style input of `lines` lines of n through `fibrpc call - --window W`, every output line checked. */
export async function streamThroughCall(queue: string, options: { lines: number; n: string; expected: string; window: number }): Promise<StreamRun> {
  const input = Buffer.from(`${options.n}\n`.repeat(options.lines));
  const started = performance.now();
  const proc = Bun.spawn([FIBRPC, "call", "-", "--queue", queue, "--window", String(options.window), "--timeout", "30s"], {
    env: ENV,
    stdin: input,
    stdout: "pipe",
    stderr: "pipe",
  });
  let wrong = 0;
  let seen = 0;
  let partial = "";
  const decoder = new TextDecoder();
  for await (const chunk of proc.stdout) {
    const lines = (partial + decoder.decode(chunk, { stream: true })).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) {
      seen++;
      if (line !== options.expected) wrong++;
    }
  }
  const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
  const elapsedMs = performance.now() - started;
  if (code !== 0) throw new Error(`fibrpc call - exited ${code}: ${stderr.trim().slice(0, 500)}`);
  return { callsPerSecond: (seen * 1000) / elapsedMs, wrong: wrong + (options.lines - seen) };
}

/** What `call -` replaces: a shell loop of one-shot calls, `count` of them, sequential. */
export async function shellLoop(queue: string, count: number): Promise<number> {
  const script = `for i in $(seq ${count}); do "$0" call 30 --queue "$1" >/dev/null || exit 1; done`;
  const started = performance.now();
  const proc = Bun.spawn(["bash", "-c", script, FIBRPC, queue], { env: ENV, stdout: "ignore", stderr: "pipe" });
  const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`the shell loop of fibrpc call failed: ${stderr.trim().slice(0, 500)}`);
  return (count * 1000) / (performance.now() - started);
}
