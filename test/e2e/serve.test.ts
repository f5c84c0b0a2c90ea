import "../support/preflight.ts";
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import amqp, { type Channel, type ConsumeMessage } from "amqplib";
import { BROKER_URL, declareQueue, deleteQueue, eventually, publishConfirmed, queueState, uniqueQueue, withChannel } from "../support/broker.ts";
import { AmqpProxy, METHOD } from "../support/amqp-proxy.ts";
import { cleanupAfterEach } from "../support/cleanup.ts";
import { runFibrpc, ServeProcess, serveDuringSuite } from "../support/fibrpc.ts";
import { LoadDriver } from "../support/load.ts";
import { queueSettled } from "../support/rabbitmqctl.ts";

interface RawReply {
  body: string;
  type: string | undefined;
  contentType: string | undefined;
  errorCode: unknown;
}

/** CPU time (user + system, in clock ticks of 10 ms) that process `pid` has used so far. */
function cpuTicks(pid: number): number {
  // Fields after the command name, which is in parentheses and may hold spaces: utime and stime are 14 and 15.
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8")
    .replace(/^.*\) /, "")
    .split(" ");
  return Number(fields[11]) + Number(fields[12]);
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
    bodies.forEach((body, index) => channel.sendToQueue(queue, body, { correlationId: String(index), replyTo: "amq.rabbitmq.reply-to" }));
    if (!(await eventually(() => replies.size === bodies.length, timeoutMs))) {
      throw new Error(`${replies.size} of ${bodies.length} requests answered within ${timeoutMs} ms`);
    }
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
  // Classic, so that rabbitmqctl's unacked count is current (see queueTotals).
  const suite = serveDuringSuite("poison", ["--max-n", "1000", "--queue-type", "classic"]);
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
    // Acked means gone: neither ready nor unacked. (Requeued ones would sit unacked, cycling, and
    // a passive declare, which counts ready messages only, would not see them.)
    expect(await eventually(() => queueSettled(queue), 10_000, 200)).toBe(true);
    expect((await runFibrpc(["call", "30", "--queue", queue])).stdout).toBe("832040\n"); // everything before it was handled
    expect(suite.serve.log.match(/without reply_to/g)).toHaveLength(1);
    expect(suite.serve.log).toMatch(/without reply_to cannot be answered; acked and dropped \(no correlation id\)/);
    expect(suite.serve.log).not.toContain("undefined");
    // And the worker idles: a request cycling through nack and redelivery keeps it busy.
    const [ticksBefore, wallBefore] = [cpuTicks(suite.serve.proc.pid), performance.now()];
    expect(await queueSettled(queue)).toBe(true);
    expect(await queueSettled(queue)).toBe(true);
    const busyShare = ((cpuTicks(suite.serve.proc.pid) - ticksBefore) * 10) / (performance.now() - wallBefore);
    expect(busyShare).toBeLessThan(0.25);
  });
});

describe("fibrpc serve acks a request only once its reply is safe", () => {
  const cleanup = cleanupAfterEach();

  test("a reply the broker refuses leaves the request unacked: it goes back to the queue, it is not acked", async () => {
    const [queue, refusing, returned] = [uniqueQueue("refused-reply"), uniqueQueue("refusing"), uniqueQueue("returned")];
    cleanup(() => Promise.all([queue, refusing, returned].map(deleteQueue)));
    await withChannel(async (channel) => {
      await channel.assertQueue(returned, { durable: false });
      // Full at length 0 and rejecting publishes: the broker nacks every reply sent here.
      await channel.assertQueue(refusing, { durable: false, arguments: { "x-max-length": 0, "x-overflow": "reject-publish" } });
      // A request handed back to this queue even once is dead-lettered to `returned`, where the test can see it.
      await channel.assertQueue(queue, {
        durable: true,
        arguments: { "x-queue-type": "quorum", "x-delivery-limit": 0, "x-dead-letter-exchange": "", "x-dead-letter-routing-key": returned },
      });
    });
    const serve = await ServeProcess.start(["--queue", queue]);
    cleanup(() => serve.stop("SIGKILL"));

    await publishConfirmed(queue, "30", { correlationId: "refused-1", replyTo: refusing });
    expect(await eventually(async () => (await queueState(returned))?.messageCount === 1, 10_000)).toBe(true);
    const handedBack = await withChannel((channel) => channel.get(returned, { noAck: true }));
    expect(handedBack === false ? undefined : handedBack.properties.correlationId).toBe("refused-1");
    // The worker goes on serving.
    expect(await runFibrpc(["call", "31", "--queue", queue])).toMatchObject({ code: 0, stdout: "1346269\n" });
  });

  test("SIGTERM with a reply in flight: the drain waits for its confirm, so each request is answered exactly once", async () => {
    const queue = uniqueQueue("drain-in-flight");
    cleanup(() => deleteQueue(queue));
    // The leaving worker talks to the broker through a relay that can hold the broker's side back:
    // that keeps one reply's confirm outstanding while the signal lands, every time.
    const proxy = await AmqpProxy.start();
    cleanup(() => proxy.close());
    // F(3,000,000) takes a few hundred milliseconds: requests are still in flight when the signal comes.
    const args = ["--queue", queue, "--prefetch", "16", "--max-n", "3000000", "--drain-timeout", "20s"];
    const leaving = await ServeProcess.start([...args, "--url", proxy.urlFor(BROKER_URL)]);
    cleanup(() => leaving.stop("SIGKILL"));
    const load = await LoadDriver.start({ url: BROKER_URL, queue, clients: 1, requestsPerClient: 8, perTick: 8, nOf: () => 3_000_000 });
    cleanup(() => load.close());
    expect(await eventually(() => load.answered >= 1, 20_000, 5)).toBe(true);

    proxy.hold();
    const heldFrom = proxy.methodsSent.length;
    expect(await proxy.waitForMethod((id) => id === METHOD.basicPublish, heldFrom, 20_000)).toBe(true); // a reply, unconfirmed
    const signalledFrom = proxy.methodsSent.length;
    leaving.proc.kill("SIGTERM");
    // The worker has begun to stop (a cancel: the first thing it sends that is not another reply); now the confirm may come.
    expect(await proxy.waitForMethod((id) => id !== METHOD.basicPublish, signalledFrom)).toBe(true);
    proxy.release();
    expect(await leaving.exited).toBe(0);

    // What the leaving worker answered it acked; what it did not answer it handed back; the next worker takes the rest.
    const next = await ServeProcess.start(args);
    cleanup(() => next.stop("SIGKILL"));
    const report = await load.finish(30_000);
    expect(report).toEqual({ sent: 8, answered: 8, wrong: 0, lost: 0, wireDuplicates: 0 });
  }, 60_000);
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
    const lines = serve.log
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
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
        expect(line).toMatchObject({
          level: "debug",
          trace_id: "4bf92f3577b34da6a3ce929d0e0e4736",
          span_id: echoed.split("-")[2],
          "messaging.message.conversation_id": "json-1",
        });
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
    expect(result.stderr).toMatch(/at most 255 bytes; got 256/);
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
