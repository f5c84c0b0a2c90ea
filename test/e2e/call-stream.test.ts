/** `fibrpc call -`: n from stdin, one per line, answers in input order, as the binary runs in a pipeline. */
import "../support/preflight.ts";
import { describe, expect, test } from "bun:test";
import amqp from "amqplib";
import { BROKER_URL, deleteQueue, uniqueQueue } from "../support/broker.ts";
import { FIBRPC, serveDuringSuite } from "../support/fibrpc.ts";
import { startTestWorker } from "../support/test-worker.ts";
import { fibonacci } from "../../src/fib.ts";

interface Piped {
  proc: ReturnType<typeof spawnCall>;
  /** Everything read from stdout so far. */
  stdout: () => string;
  done: Promise<{ code: number; stdout: string; stderr: string }>;
}

function spawnCall(args: string[]) {
  return Bun.spawn([FIBRPC, "call", "-", ...args], {
    env: { ...process.env, NO_COLOR: "1", AMQP_URL: BROKER_URL },
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
  });
}

/** Starts `fibrpc call - ARGS` with a pipe on stdin the test writes to, reading stdout as it comes. */
function pipeCall(args: string[]): Piped {
  const proc = spawnCall(args);
  let out = "";
  const reading = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stdout) out += decoder.decode(chunk, { stream: true });
  })();
  const killer = setTimeout(() => proc.kill("SIGKILL"), 30_000);
  const done = (async () => {
    const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited, reading]);
    clearTimeout(killer);
    return { code, stdout: out, stderr };
  })();
  return { proc, stdout: () => out, done };
}

async function runWithInput(args: string[], input: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const piped = pipeCall(args);
  await piped.proc.stdin.write(input);
  await piped.proc.stdin.end();
  return piped.done;
}

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await Bun.sleep(10);
  }
}

const lines = (...ns: (number | string)[]) => ns.map((n) => `${n}\n`).join("");

describe("fibrpc call - against fibrpc serve", () => {
  const { queue } = serveDuringSuite("stream", ["--max-n", "5000"]);

  test("one answer per input line, in input order, exit 0", async () => {
    const ns = Array.from({ length: 2000 }, (_, index) => index % 300);
    const result = await runWithInput(["--queue", queue], lines(...ns));
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(lines(...ns.map((n) => fibonacci(n).toString())));
  });

  test("surrounding whitespace and a trailing CR are trimmed; no final newline is fine", async () => {
    const result = await runWithInput(["--queue", queue], "  10 \r\n\t20\r\n30");
    expect(result).toMatchObject({ code: 0, stdout: lines(55, 6765, 832040) });
  });

  test("a bad line is a usage error naming its line; plain output stops before it", async () => {
    const result = await runWithInput(["--queue", queue], lines(5, 6, "x7", 8));
    expect(result.code).toBe(2);
    expect(result.stdout).toBe(lines(5, 8));
    expect(result.stderr).toMatch(/^fibrpc: line 3: invalid n 'x7'/);
    const empty = await runWithInput(["--queue", queue], lines(5, "", 8));
    expect(empty.code).toBe(2);
    expect(empty.stdout).toBe(lines(5));
    expect(empty.stderr).toContain("line 2: empty line");
  });

  test("--json goes on to the end of the input, one object per line, errors included; the first failure decides the code", async () => {
    const result = await runWithInput(["--queue", queue, "--json"], lines(5, "bad", 6000, 7));
    expect(result.code).toBe(2); // line 2 (usage) comes before line 3 (OUT_OF_RANGE, exit 1)
    const objects = result.stdout
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(objects).toMatchObject([
      { line: 1, n: 5, ok: true, value: "5" },
      { line: 2, ok: false, error: { kind: "usage", code: "USAGE" } },
      { line: 3, n: 6000, ok: false, error: { kind: "server-error", code: "OUT_OF_RANGE" } },
      { line: 4, n: 7, ok: true, value: "13" },
    ]);
  });

  test("an answer is written as soon as it and every earlier one are in, long before the input ends", async () => {
    const piped = pipeCall(["--queue", queue]);
    try {
      await piped.proc.stdin.write(lines(10));
      await piped.proc.stdin.flush();
      await until(() => piped.stdout() === lines(55));
      await piped.proc.stdin.write(lines(11));
      await piped.proc.stdin.flush();
      await until(() => piped.stdout() === lines(55, 89));
    } finally {
      await piped.proc.stdin.end();
    }
    expect(await piped.done).toMatchObject({ code: 0, stdout: lines(55, 89) });
  });

  test("--timeout bounds each request, not the stream: a stream may run longer than it", async () => {
    const piped = pipeCall(["--queue", queue, "--timeout", "1s"]);
    const started = Date.now();
    for (let n = 1; n <= 3; n++) {
      await piped.proc.stdin.write(lines(n));
      await piped.proc.stdin.flush();
      await until(() => piped.stdout().split("\n").length > n);
      if (n < 3) await until(() => Date.now() - started >= n * 700);
    }
    await piped.proc.stdin.end();
    const result = await piped.done;
    expect(result).toMatchObject({ code: 0, stdout: lines(1, 1, 2) });
    expect(Date.now() - started).toBeGreaterThan(1000);
  });

  test("SIGINT: what was answered is written, then exit 130", async () => {
    const piped = pipeCall(["--queue", queue]);
    await piped.proc.stdin.write(lines(1, 2, 3));
    await piped.proc.stdin.flush();
    await until(() => piped.stdout() === lines(1, 1, 2));
    piped.proc.kill("SIGINT");
    const result = await piped.done;
    expect(result).toMatchObject({ code: 130, stdout: lines(1, 1, 2) });
  });

  test("--window: bad values are usage errors", async () => {
    expect((await runWithInput(["--queue", queue, "--window", "1"], lines(1, 2, 3, 4))).stdout).toBe(lines(1, 1, 2, 3));
    for (const bad of ["0", "abc", "100001"]) expect((await runWithInput(["--queue", queue, "--window", bad], lines(1))).code).toBe(2);
  });
});

describe("fibrpc call - against other workers", () => {
  test("a worker that answers out of order: stdout is still in input order", async () => {
    const queue = uniqueQueue("stream-reorder");
    // Five in hand, answered last first.
    const worker = await startTestWorker({ queue, reverseBatch: 5 });
    try {
      const result = await runWithInput(["--queue", queue, "--window", "5"], lines(1, 2, 3, 4, 5, 6, 7, 8, 9, 10));
      expect(result).toMatchObject({ code: 0, stdout: lines(1, 1, 2, 3, 5, 8, 13, 21, 34, 55) });
    } finally {
      await worker.close();
      await deleteQueue(queue);
    }
  });

  test("--window N: a worker that holds every request never has more than N of them", async () => {
    const queue = uniqueQueue("stream-window");
    const connection = await amqp.connect(BROKER_URL);
    try {
      const channel = await connection.createChannel();
      await channel.assertQueue(queue, { durable: true, arguments: { "x-queue-type": "quorum" } });
      const held: amqp.ConsumeMessage[] = [];
      let mostHeld = 0;
      await channel.consume(
        queue,
        (message) => {
          if (message === null) return;
          held.push(message);
          mostHeld = Math.max(mostHeld, held.length);
          if (held.length < 3) return;
          // Three in hand: answer the oldest only, so a fourth may come.
          const request = held.shift() ?? expect.unreachable();
          channel.sendToQueue(request.properties.replyTo, Buffer.from(fibonacci(Number(request.content.toString())).toString()), {
            correlationId: request.properties.correlationId,
          });
        },
        { noAck: true },
      );
      const piped = pipeCall(["--queue", queue, "--window", "3"]);
      await piped.proc.stdin.write(lines(...Array.from({ length: 20 }, (_, index) => index)));
      await piped.proc.stdin.flush();
      await until(() => piped.stdout().split("\n").length > 17); // 18 answered: the last two stay held
      expect(mostHeld).toBe(3);
      piped.proc.kill("SIGTERM");
      expect((await piped.done).code).toBe(143);
    } finally {
      await connection.close().catch(() => {});
      await deleteQueue(queue);
    }
  });

  test("no worker at the start: exit 3 before reading any input", async () => {
    const result = await runWithInput(["--queue", uniqueQueue("stream-nobody")], lines(1, 2));
    expect(result.code).toBe(3);
    expect(result.stdout).toBe("");
  });
});
