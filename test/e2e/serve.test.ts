import "../support/preflight.ts";
import { describe, expect, test } from "bun:test";
import amqp, { type Channel, type ConsumeMessage } from "amqplib";
import { BROKER_URL, declareQueue, deleteQueue, eventually, queueState, uniqueQueue } from "../support/broker.ts";
import { runFibrpc, ServeProcess, serveDuringSuite } from "../support/fibrpc.ts";

interface RawReply {
  body: string;
  type: string | undefined;
  contentType: string | undefined;
  errorCode: unknown;
}

/** Publishes raw bodies to `queue` and collects the replies by correlation id, as a hostile client would. */
async function sendRaw(queue: string, bodies: Buffer[], timeoutMs = 5000): Promise<Map<string, RawReply>> {
  const connection = await amqp.connect(BROKER_URL);
  try {
    const channel: Channel = await connection.createChannel();
    const replies = new Map<string, RawReply>();
    await channel.consume(
      "amq.rabbitmq.reply-to",
      (message: ConsumeMessage | null) => {
        if (!message) return;
        replies.set(String(message.properties.correlationId), {
          body: message.content.toString(),
          type: message.properties.type,
          contentType: message.properties.contentType,
          errorCode: message.properties.headers?.["x-error-code"],
        });
      },
      { noAck: true },
    );
    bodies.forEach((body, index) =>
      channel.sendToQueue(queue, body, { correlationId: String(index), replyTo: "amq.rabbitmq.reply-to" }),
    );
    await eventually(() => replies.size === bodies.length, timeoutMs);
    return replies;
  } finally {
    await connection.close();
  }
}

/** The kind and durability of a queue, as rabbitmqctl lists them. */
async function queueKind(queue: string): Promise<{ type: string | undefined; durable: string | undefined }> {
  const proc = Bun.spawn(["rabbitmqctl", "list_queues", "-q", "--no-table-headers", "name", "type", "durable"], { stdout: "pipe", stderr: "ignore" });
  const text = await new Response(proc.stdout).text();
  const row = text
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .find(([name]) => name === queue);
  return { type: row?.[1], durable: row?.[2] };
}

async function queueType(queue: string): Promise<string | undefined> {
  return (await queueKind(queue)).type;
}

async function rabbitmqctl(...args: string[]): Promise<void> {
  await Bun.spawn(["rabbitmqctl", ...args], { stdout: "ignore", stderr: "ignore" }).exited;
}

describe("fibrpc serve answers malformed requests with errors and goes on", () => {
  const suite = serveDuringSuite("poison", ["--max-n", "1000"]);
  const { queue } = suite;

  test("each bad body gets an error reply with its code; nothing is requeued", async () => {
    const cases: [Buffer, string][] = [
      [Buffer.from(""), "INVALID_ARGUMENT"],
      [Buffer.from("-1"), "INVALID_ARGUMENT"],
      [Buffer.from("3.5"), "INVALID_ARGUMENT"],
      [Buffer.from("1e3"), "INVALID_ARGUMENT"],
      [Buffer.from("0x10"), "INVALID_ARGUMENT"],
      [Buffer.from(" 30 "), "INVALID_ARGUMENT"],
      [Buffer.from([0xff, 0xfe, 0x33]), "INVALID_ARGUMENT"],
      [Buffer.from("9".repeat(1_000_000)), "INVALID_ARGUMENT"],
      [Buffer.from("1001"), "OUT_OF_RANGE"],
    ];
    const replies = await sendRaw(queue, [...cases.map(([body]) => body), Buffer.from("30")]);
    cases.forEach(([, code], index) => {
      const reply = replies.get(String(index));
      expect(reply).toBeDefined();
      expect(reply?.type).toBe("error");
      expect(reply?.contentType).toBe("application/json");
      expect(reply?.errorCode).toBe(code);
      expect(JSON.parse(reply?.body ?? "{}").error.code).toBe(code);
    });
    expect(replies.get(String(cases.length))?.body).toBe("832040");
    expect(await eventually(async () => (await queueState(queue))?.messageCount === 0)).toBe(true);
    expect((await runFibrpc(["call", "30", "--queue", queue])).stdout).toBe("832040\n");
  });

  test("requests without reply_to are acked with a warning, not requeued, and a flood of them is one line", async () => {
    const connection = await amqp.connect(BROKER_URL);
    const channel = await connection.createConfirmChannel();
    for (let index = 0; index < 50; index++) channel.sendToQueue(queue, Buffer.from("5"));
    await channel.waitForConfirms();
    await connection.close();
    expect(await suite.serve.waitForLog(/without reply_to/)).toBe(true);
    expect(await eventually(async () => (await queueState(queue))?.messageCount === 0)).toBe(true);
    expect((await runFibrpc(["call", "30", "--queue", queue])).stdout).toBe("832040\n"); // everything before it was handled
    expect(suite.serve.log.match(/without reply_to/g)).toHaveLength(1);
    expect(suite.serve.log).toMatch(/without reply_to cannot be answered; acked and dropped \(no correlation id\)/);
    expect(suite.serve.log).not.toContain("undefined");
  });
});

describe("fibrpc serve and the queue", () => {
  for (const kind of ["classic", "quorum"] as const) {
    test(`adopts an existing ${kind} queue as it is (no 406), and answers`, async () => {
      const queue = uniqueQueue(`adopt-${kind}`);
      await declareQueue(queue, kind);
      const serve = await ServeProcess.start(["--queue", queue, "--queue-type", kind === "classic" ? "quorum" : "classic"]);
      try {
        expect((await runFibrpc(["call", "30", "--queue", queue])).stdout).toBe("832040\n");
        expect(serve.log).not.toContain("PRECONDITION");
        expect(serve.log).not.toContain("declared it");
        expect(await queueType(queue)).toBe(kind);
      } finally {
        await serve.stop();
        await deleteQueue(queue);
      }
    });
  }

  test("declares a missing queue as a durable quorum queue by default", async () => {
    const queue = uniqueQueue("declare-quorum");
    const serve = await ServeProcess.start(["--queue", queue]);
    try {
      expect(serve.log).toContain("declared it, quorum");
      expect(await queueKind(queue)).toEqual({ type: "quorum", durable: "true" });
    } finally {
      await serve.stop();
      await deleteQueue(queue);
    }
  });

  test("--queue-type classic declares a durable classic queue", async () => {
    const queue = uniqueQueue("declare-classic");
    const serve = await ServeProcess.start(["--queue", queue, "--queue-type", "classic"]);
    try {
      expect(serve.log).toContain("declared it, classic");
      expect(await queueKind(queue)).toEqual({ type: "classic", durable: "true" });
    } finally {
      await serve.stop();
      await deleteQueue(queue);
    }
  });
});

describe("fibrpc serve lifecycle", () => {
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    test(`${signal} stops it cleanly with exit 0`, async () => {
      const queue = uniqueQueue("stop");
      const serve = await ServeProcess.start(["--queue", queue]);
      expect(await serve.stop(signal)).toBe(0);
      expect(serve.log).toContain(`shutting down on ${signal}`);
      expect(await eventually(async () => (await queueState(queue))?.consumerCount === 0)).toBe(true);
      await deleteQueue(queue);
    });
  }

  test("logs where it connected, with the password hidden, and --log-format json gives JSON lines", async () => {
    const queue = uniqueQueue("logs");
    const serve = await ServeProcess.start(["--queue", queue, "--log-format", "json", "--prefetch", "7"]);
    await serve.stop();
    await deleteQueue(queue);
    const lines = serve.log.trim().split("\n").map((line) => JSON.parse(line));
    expect(lines.map((line) => line.msg).join("\n")).toContain(`consuming on queue '${queue}'`);
    expect(lines.some((line) => /prefetch 7/.test(line.msg))).toBe(true);
    expect(serve.log).toMatch(/guest:\*\*\*@/);
  });

  test("--log-format json: each request's line at debug level carries its trace_id and span_id", async () => {
    const queue = uniqueQueue("json-trace");
    const serve = await ServeProcess.start(["--queue", queue, "--log-format", "json", "--log-level", "debug"]);
    try {
      const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
      const connection = await amqp.connect(BROKER_URL);
      try {
        const channel = await connection.createChannel();
        const reply = new Promise<ConsumeMessage>((resolve) => {
          void channel.consume("amq.rabbitmq.reply-to", (message) => message && resolve(message), { noAck: true });
        });
        channel.sendToQueue(queue, Buffer.from("12"), { replyTo: "amq.rabbitmq.reply-to", correlationId: "json-1", headers: { traceparent } });
        const echoed = String((await reply).properties.headers?.traceparent);
        expect(echoed).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
        expect(await serve.waitForLog(/json-1/)).toBe(true);
        const line = serve.log
          .trim()
          .split("\n")
          .map((text) => JSON.parse(text))
          .find((entry) => String(entry.msg).includes("(correlation id json-1)"));
        expect(line).toMatchObject({ level: "debug", trace_id: "4bf92f3577b34da6a3ce929d0e0e4736", span_id: echoed.split("-")[2], "messaging.message.conversation_id": "json-1" });
      } finally {
        await connection.close();
      }
    } finally {
      await serve.stop();
      await deleteQueue(queue);
    }
  });

  test("a refused login ends serve with exit 6, password hidden", async () => {
    const secret = `pw-${crypto.randomUUID()}`;
    const url = BROKER_URL.replace(/\/\/([^:]+):[^@]*@/, `//$1:${secret}@`);
    const result = await runFibrpc(["serve", "--queue", uniqueQueue("refused")], { env: { AMQP_URL: url } });
    expect(result.code).toBe(6);
    expect(result.stdout + result.stderr).not.toContain(secret);
  });

  test("a user who may log in but not read the queue: exit 6 at once, naming the permission", async () => {
    const user = `fibrpc-e2e-noread-${process.pid}`;
    const queue = uniqueQueue("noread");
    await rabbitmqctl("add_user", user, "pw");
    await rabbitmqctl("set_permissions", "-p", "/", user, ".*", ".*", "^$"); // configure, write, read
    try {
      await declareQueue(queue, "quorum");
      const result = await runFibrpc(["serve", "--queue", queue], { env: { AMQP_URL: BROKER_URL.replace(/\/\/[^@]*@/, `//${user}:pw@`) } });
      expect(result.code).toBe(6);
      expect(result.stderr).toContain(`lacks read permission on queue '${queue}'`);
      expect(result.stderr).not.toContain("wrong user or password");
      expect(result.stderr.trim().split("\n")).toHaveLength(1);
    } finally {
      await rabbitmqctl("delete_user", user);
      await deleteQueue(queue);
    }
  }, 30_000);

  test("a queue name over 255 bytes: exit 2 at once, not a retry loop", async () => {
    const result = await runFibrpc(["serve", "--queue", "q".repeat(256)], { timeoutMs: 10_000 });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("256 bytes");
  });

  test("a stream queue: exit 2 at once, saying why", async () => {
    const queue = uniqueQueue("stream");
    const connection = await amqp.connect(BROKER_URL);
    try {
      await (await connection.createChannel()).assertQueue(queue, { durable: true, arguments: { "x-queue-type": "stream" } });
      const result = await runFibrpc(["serve", "--queue", queue], { timeoutMs: 10_000 });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain("is a stream");
    } finally {
      await connection.close();
      await deleteQueue(queue);
    }
  });

  test("bad flags are usage errors (exit 2)", async () => {
    expect((await runFibrpc(["serve", "--prefetch", "0"])).code).toBe(2);
    expect((await runFibrpc(["serve", "--prefech", "5"])).code).toBe(2);
    expect((await runFibrpc(["serve", "--queue-type", "stream"])).code).toBe(2);
  });
});
