/**
 * The request engine in-process, against the real broker: what each failure becomes (asserted
 * by error code, not by message text), and that replies find their requests whatever the order.
 */
import "../support/preflight.ts";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import amqp, { type ConsumeMessage } from "amqplib";
import { BROKER_URL, deleteQueue, uniqueQueue, withChannel } from "../support/broker.ts";
import { RabbitNode } from "../support/rabbit-node.ts";
import { callMany, callOutcome, requestBody } from "../../src/rpc/calls.ts";
import { RequestEngine, type EngineOptions, type OpenOptions } from "../../src/rpc/request-engine.ts";
import { fibonacci } from "../../src/fib.ts";
import { TEXT_PLAIN } from "../../src/protocol.ts";

/** Integration tests of the engine own ports 42000-42999 for throwaway nodes. */
const PORTS: [number, number] = [42_000, 42_999];

type Held = { message: ConsumeMessage; reply: (body: string, correlationId?: string) => void };

/** A worker on raw amqplib that holds every request (unacked, as fibrpc serve does) until the test says how to answer it. */
async function holdingWorker(queue: string, url = BROKER_URL): Promise<{ held: Held[]; close: () => Promise<void> }> {
  const connection = await amqp.connect(url);
  connection.on("error", () => {});
  const channel = await connection.createChannel();
  channel.on("error", () => {});
  await channel.assertQueue(queue, { durable: true, arguments: { "x-queue-type": "quorum" } });
  const held: Held[] = [];
  await channel.consume(
    queue,
    (message) => {
      if (message === null) return;
      let acked = false;
      const reply = (body: string, correlationId: string = message.properties.correlationId): void => {
        channel.sendToQueue(message.properties.replyTo, Buffer.from(body), { correlationId, contentType: TEXT_PLAIN });
        if (acked) return;
        acked = true;
        channel.ack(message, false);
      };
      held.push({ message, reply });
    },
    { noAck: false },
  );
  return { held, close: () => connection.close().catch(() => {}) };
}

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await Bun.sleep(5);
  }
}

const engines: RequestEngine[] = [];
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.close()));
  await Promise.all(closers.splice(0).map((close) => close()));
});

async function openEngine(options: Partial<EngineOptions> & { queue: string }, open: Partial<OpenOptions> = {}): Promise<RequestEngine> {
  const engine = await RequestEngine.open(
    { broker: { urls: [BROKER_URL] }, replyQueue: "direct", timeoutMs: 5000, ...options },
    { deadlineMs: Date.now() + 5000, serverCheck: "none", ...open },
  );
  engines.push(engine);
  return engine;
}

describe("RequestEngine: replies and their requests", () => {
  test("each reply reaches its own request, answered in reverse order; duplicate and unknown replies are dropped", async () => {
    const queue = uniqueQueue("engine-order");
    const worker = await holdingWorker(queue);
    closers.push(worker.close, () => deleteQueue(queue));
    const engine = await openEngine({ queue });
    const answers = callMany(engine, [10, 20, 30], Date.now() + 5000);
    await until(() => worker.held.length === 3);
    const [first, second, third] = worker.held;
    third?.reply("832040");
    third?.reply("999"); // the same correlation id again: a worker that answered twice
    second?.reply("1", "no-such-request"); // a correlation id nobody sent
    second?.reply("6765");
    first?.reply("55");
    expect(await answers).toEqual([
      { n: 10, ok: true, value: "55" },
      { n: 20, ok: true, value: "6765" },
      { n: 30, ok: true, value: "832040" },
    ]);
    expect(engine.inFlight).toBe(0);
  });

  test("every request carries what SPEC §1 says fibrpc's client sets", async () => {
    const queue = uniqueQueue("engine-properties");
    const worker = await holdingWorker(queue);
    closers.push(worker.close, () => deleteQueue(queue));
    const engine = await openEngine({ queue, timeoutMs: 3000 });
    const before = Math.floor(Date.now() / 1000);
    void engine.request(requestBody(7));
    await until(() => worker.held.length === 1);
    const { properties, content } = worker.held[0]?.message ?? expect.unreachable();
    expect(content.toString()).toBe("7");
    expect(properties).toMatchObject({ contentType: "text/plain", appId: "fibrpc", replyTo: expect.stringMatching(/^amq\.rabbitmq\.reply-to/) });
    expect(Number(properties.expiration)).toBeGreaterThan(2000);
    expect(Number(properties.expiration)).toBeLessThanOrEqual(3000);
    expect(properties.timestamp).toBeGreaterThanOrEqual(before);
    expect(typeof properties.correlationId).toBe("string");
  });

  test("an exclusive reply queue works the same", async () => {
    const queue = uniqueQueue("engine-exclusive");
    const worker = await holdingWorker(queue);
    closers.push(worker.close, () => deleteQueue(queue));
    const engine = await openEngine({ queue, replyQueue: "exclusive" });
    const answer = engine.request(requestBody(12));
    await until(() => worker.held.length === 1);
    expect(worker.held[0]?.message.properties.replyTo).toStartWith("amq.gen-");
    worker.held[0]?.reply("144");
    expect(callOutcome(12, await answer)).toEqual({ n: 12, ok: true, value: "144" });
  });
});

describe("RequestEngine: each failure classified once", () => {
  test("no answer by the deadline: TIMEOUT at the deadline, and nothing left pending", async () => {
    const queue = uniqueQueue("engine-timeout");
    const worker = await holdingWorker(queue);
    closers.push(worker.close, () => deleteQueue(queue));
    const engine = await openEngine({ queue, timeoutMs: 300 });
    const started = Date.now();
    const outcome = await engine.request(requestBody(1));
    expect(outcome.ok ? "answered" : outcome.error.code).toBe("TIMEOUT");
    expect(Date.now() - started).toBeGreaterThanOrEqual(295); // the deadline, not earlier
    expect(engine.inFlight).toBe(0);
  });

  test("a queue that does not exist: the request comes back unroutable, NO_SERVER", async () => {
    const engine = await openEngine({ queue: uniqueQueue("engine-missing") });
    const outcome = await engine.request(requestBody(1));
    expect(outcome.ok ? "answered" : outcome.error.code).toBe("NO_SERVER");
  });

  test("fail-fast: a missing queue, or requests waiting with no consumer, is NO_SERVER before anything is sent", async () => {
    const missing = uniqueQueue("engine-nobody");
    await expect(openEngine({ queue: missing }, { serverCheck: "fail-fast" })).rejects.toMatchObject({ code: "NO_SERVER" });
    const backlog = uniqueQueue("engine-backlog");
    closers.push(() => deleteQueue(backlog));
    await withChannel(async (_channel, connection) => {
      const channel = await connection.createConfirmChannel();
      await channel.assertQueue(backlog, { durable: true });
      channel.sendToQueue(backlog, Buffer.from("1"));
      await channel.waitForConfirms();
    });
    await expect(openEngine({ queue: backlog }, { serverCheck: "fail-fast" })).rejects.toMatchObject({ code: "NO_SERVER" });
  });

  test("fail-fast on an idle queue (0 ready, 0 consumers, as a quorum queue mid-election shows): sends, then NO_SERVER once the broker confirmed it, and at once for what follows", async () => {
    const idle = uniqueQueue("engine-idle");
    await withChannel((channel) => channel.assertQueue(idle, { durable: true }));
    closers.push(() => deleteQueue(idle));
    const engine = await openEngine({ queue: idle, timeoutMs: 20_000 }, { serverCheck: "fail-fast" });
    const started = Date.now();
    const outcome = await engine.request(requestBody(1));
    expect(outcome.ok ? "answered" : outcome.error.code).toBe("NO_SERVER");
    expect(Date.now() - started).toBeLessThan(5000);
    expect(engine.refusal?.code).toBe("NO_SERVER");
    const next = await engine.request(requestBody(2));
    expect(next.ok ? "answered" : next.error.code).toBe("NO_SERVER");
  });

  test("a full queue that rejects publishes: REJECTED at once, not a timeout", async () => {
    const queue = uniqueQueue("engine-full");
    await withChannel((channel) => channel.assertQueue(queue, { durable: true, arguments: { "x-max-length": 1, "x-overflow": "reject-publish" } }));
    closers.push(() => deleteQueue(queue));
    const engine = await openEngine({ queue, timeoutMs: 10_000 });
    const first = engine.request(requestBody(1));
    const started = Date.now();
    const second = await engine.request(requestBody(2));
    expect(second.ok ? "answered" : second.error.code).toBe("REJECTED");
    expect(Date.now() - started).toBeLessThan(5000);
    // The first one sits in the queue; its reply could only reach the link the nacks had renewed,
    // so it went out again, and is refused like the second.
    const firstOutcome = await first;
    expect(firstOutcome.ok ? "answered" : firstOutcome.error.code).toBe("REJECTED");
  });

  test("a user who may not publish: REFUSED at once, and the engine refuses what comes after", async () => {
    const user = `fibrpc-ro-${crypto.randomUUID().slice(0, 8)}`;
    const ctl = (...args: string[]) => Bun.spawnSync(["rabbitmqctl", ...args], { stdout: "ignore", stderr: "ignore" });
    ctl("add_user", user, "pw-ro");
    ctl("set_permissions", "-p", "/", user, ".*", "^$", ".*"); // configure and read, no write
    closers.push(async () => void ctl("delete_user", user));
    const queue = uniqueQueue("engine-readonly");
    const worker = await holdingWorker(queue);
    closers.push(worker.close, () => deleteQueue(queue));
    const engine = await openEngine({ queue, broker: { urls: [BROKER_URL.replace("guest:guest", `${user}:pw-ro`)] } });
    const outcome = await engine.request(requestBody(1));
    expect(outcome.ok ? "answered" : outcome.error.code).toBe("REFUSED");
    expect(engine.refusal?.code).toBe("REFUSED");
    const later = await engine.request(requestBody(2));
    expect(later.ok ? "answered" : later.error.code).toBe("REFUSED");
  });

  test("the watch: when every worker leaves, what waits fails NO_SERVER, and so does what comes until one is back", async () => {
    const queue = uniqueQueue("engine-watch");
    const worker = await holdingWorker(queue);
    closers.push(() => deleteQueue(queue));
    const engine = await openEngine({ queue, timeoutMs: 20_000 }, { serverCheck: "fail-fast", watchServer: true });
    const waiting = engine.request(requestBody(5));
    await until(() => worker.held.length === 1);
    await worker.close();
    const outcome = await waiting;
    expect(outcome.ok ? "answered" : outcome.error.code).toBe("NO_SERVER");
    const meanwhile = await engine.request(requestBody(6));
    expect(meanwhile.ok ? "answered" : meanwhile.error.code).toBe("NO_SERVER");
    const back = await holdingWorker(queue);
    closers.push(back.close);
    // Once the watch has seen the new worker, requests go out again.
    await until(() => engine.refusal === undefined);
    const pending = engine.request(requestBody(7));
    await until(() => back.held.some((held) => held.message.content.toString() === "7"));
    back.held.find((held) => held.message.content.toString() === "7")?.reply("13");
    expect(callOutcome(7, await pending)).toEqual({ n: 7, ok: true, value: "13" });
  }, 20_000);
});

describe("RequestEngine: a node dies with requests outstanding (two independent throwaway nodes)", () => {
  let nodes: RabbitNode[] = [];
  beforeAll(async () => {
    nodes = await Promise.all([RabbitNode.start({ label: "engine-a", portRange: PORTS }), RabbitNode.start({ label: "engine-b", portRange: PORTS })]);
  }, 90_000);
  afterAll(async () => {
    await Promise.all(nodes.map((node) => node.destroy()));
  }, 30_000);

  test("the outstanding requests go out again, same correlation ids, through the other node, within their deadline", async () => {
    const queue = uniqueQueue("engine-failover");
    const workers = await Promise.all(nodes.map((node) => holdingWorker(queue, node.url)));
    closers.push(...workers.map((worker) => worker.close));
    const engine = await openEngine({ queue, broker: { urls: [nodes[0]?.url ?? "", nodes[1]?.url ?? ""] }, timeoutMs: 20_000 });
    const connectedTo = nodes.findIndex((node) => node.url === engine.node);
    const [doomed, survivor] = connectedTo === 0 ? [0, 1] : [1, 0];
    const answers = callMany(engine, [40, 41], Date.now() + 20_000);
    const first = workers[doomed] ?? expect.unreachable();
    await until(() => first.held.length === 2, 20_000);
    const sentIds = first.held.map((held) => held.message.properties.correlationId);

    await nodes[doomed]?.stopApp(); // 320 CONNECTION_FORCED, as a node going down
    const second = workers[survivor] ?? expect.unreachable();
    await until(() => second.held.length === 2, 20_000);
    const byText = (a: unknown, b: unknown): number => String(a).localeCompare(String(b));
    expect(second.held.map((held) => held.message.properties.correlationId).sort(byText)).toEqual(sentIds.sort(byText));
    expect(engine.node).toBe(nodes[survivor]?.url);
    for (const held of second.held) held.reply(fibonacci(Number(held.message.content.toString())).toString());
    expect((await answers).map((answer) => answer.ok)).toEqual([true, true]);
    await nodes[doomed]?.startApp();
  }, 60_000);

  test("no listed node left: what waits fails UNREACHABLE, at once", async () => {
    const queue = uniqueQueue("engine-nonode");
    const worker = await holdingWorker(queue, nodes[0]?.url);
    closers.push(worker.close);
    const engine = await openEngine({ queue, broker: { urls: [nodes[0]?.url ?? ""] }, timeoutMs: 20_000 });
    const waiting = engine.request(requestBody(3));
    await until(() => worker.held.length === 1);
    const started = Date.now();
    await nodes[0]?.stopApp();
    const outcome = await waiting;
    expect(outcome.ok ? "answered" : outcome.error.code).toBe("UNREACHABLE");
    expect(Date.now() - started).toBeLessThan(10_000);
    await nodes[0]?.startApp();
  }, 60_000);
});

describe("RequestEngine: a queue exclusive to another connection", () => {
  test("fail-fast cannot look at it: REFUSED with code QUEUE_LOCKED (exit 6), not unreachable", async () => {
    const queue = uniqueQueue("engine-locked");
    const owner = await amqp.connect(BROKER_URL);
    closers.push(() => owner.close().catch(() => {}));
    await (await owner.createChannel()).assertQueue(queue, { exclusive: true });
    const failure = await openEngine({ queue }, { serverCheck: "fail-fast" }).catch((error: unknown) => error);
    expect(failure).toMatchObject({ kind: "refused", code: "QUEUE_LOCKED" });
  });
});
