import "../support/preflight.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { BrokerRefusedError, UsageError } from "../../src/errors.ts";
import { isStreamQueue } from "../../src/rpc/queue.ts";
import { UnservableQueueError } from "../../src/rpc/session-errors.ts";
import { parseTraceparent } from "../../src/trace.ts";
import { BROKER_URL, declareQueue, deleteQueue, eventually, queueState, uniqueQueue, withChannel } from "../support/broker.ts";
import { deadNodeReplyTo } from "../support/direct-reply-to.ts";
import { launchWorker, startWorker } from "../support/in-process-worker.ts";
import { RawCaller } from "../support/raw-caller.ts";

describe("FibServer answers and drops, as its observer sees it", () => {
  test("good, malformed, out of range, expired and unanswerable requests: one outcome each", async () => {
    const queue = uniqueQueue("int-outcomes");
    const worker = await startWorker(queue, { maxN: 1000 });
    const caller = await RawCaller.open();
    try {
      const longAgo = Math.floor(Date.now() / 1000) - 120;
      await caller.sendAll(queue, [
        { body: "30", properties: { correlationId: "good" } },
        { body: "x", properties: { correlationId: "bad" } },
        { body: "1001", properties: { correlationId: "big" } },
        { body: "30", properties: { correlationId: "old", timestamp: longAgo, expiration: "1000" } },
        { body: "30", properties: { correlationId: "nowhere", replyTo: "" } },
      ]);
      expect(await eventually(() => worker.observer.finished.length === 5)).toBe(true);
      const outcomes = worker.observer.finished.map((request) => `${request.outcome}${request.code === undefined ? "" : `:${request.code}`}`).sort();
      expect(outcomes).toEqual(["dropped", "error:INVALID_ARGUMENT", "error:OUT_OF_RANGE", "expired", "ok"]);
      expect(caller.reply("good")?.content.toString()).toBe("832040");
      expect(caller.reply("big")?.properties.headers?.["x-error-code"]).toBe("OUT_OF_RANGE");
      expect(await eventually(async () => (await queueState(queue))?.messageCount === 0)).toBe(true);
      expect(worker.log.matching(/without reply_to/)[0]?.message).toContain("(correlation id nowhere)");
    } finally {
      await caller.close();
      await worker.stop();
      await deleteQueue(queue);
    }
  });
});

describe("replies that would cost the connection (callers on a broker node that is down)", () => {
  test("cost the worker its connection at most once; their requests are dropped, other callers answered", async () => {
    const queue = uniqueQueue("int-storm");
    const worker = await startWorker(queue, { prefetch: 16 });
    const caller = await RawCaller.open();
    const doomed = await RawCaller.open();
    try {
      const deadCaller = deadNodeReplyTo();
      // A caller on a node that is down, and made-up addresses (which RabbitMQ treats the same way).
      const unreachable = [deadCaller, "amq.rabbitmq.reply-to.nonsense.abc", `amq.rabbitmq.reply-to.${"A".repeat(40)}.key`];
      const requests = Array.from({ length: 60 }, (_, index) =>
        index % 3 === 0
          ? { body: "20", properties: { correlationId: `dead-${index}`, replyTo: unreachable[(index / 3) % unreachable.length] ?? deadCaller } }
          : { body: "20", properties: { correlationId: `live-${index}` } },
      );
      await caller.sendAll(queue, requests);
      const live = requests.filter((request) => request.properties.correlationId.startsWith("live"));
      expect(await eventually(() => live.every((request) => caller.reply(request.properties.correlationId) !== undefined), 15_000)).toBe(true);
      expect(await eventually(async () => (await queueState(queue))?.messageCount === 0)).toBe(true);
      // Later requests to that dead node are dropped without another loss.
      await doomed.sendAll(
        queue,
        Array.from({ length: 20 }, (_, index) => ({ body: "20", properties: { correlationId: `late-${index}`, replyTo: deadCaller } })),
      );
      await caller.send(queue, "20", { correlationId: "after" });
      expect(await eventually(() => caller.reply("after") !== undefined)).toBe(true);

      console.log(
        `FIGURES storm (one node, forged dead-node address) ${JSON.stringify({ reconnects: worker.observer.reconnects, dropped: worker.observer.finished.filter((request) => request.outcome === "dropped").length })}`,
      );
      expect(worker.observer.reconnects).toBeLessThanOrEqual(1);
      const dropped = worker.observer.finished.filter((request) => request.outcome === "dropped").length;
      expect(dropped).toBe(20 + 20);
      expect(worker.observer.finished.filter((request) => request.outcome === "ok").length).toBeGreaterThanOrEqual(live.length + 1);
      expect(worker.log.matching(/cannot be reached/).length).toBeGreaterThanOrEqual(1);
      expect(worker.log.matching(/cannot be reached/).length).toBeLessThanOrEqual(3);
      for (const request of live) expect(caller.replies.get(request.properties.correlationId)?.[0]?.content.toString()).toBe("6765");
    } finally {
      await caller.close();
      await doomed.close();
      await worker.stop();
      await deleteQueue(queue);
    }
  }, 30_000);
});

/** Runs rabbitmqctl on the shared broker (users and permissions of a test's own). */
async function rabbitmqctl(...args: string[]): Promise<void> {
  const proc = Bun.spawn(["rabbitmqctl", ...args], { stdout: "ignore", stderr: "ignore" });
  await proc.exited;
}

describe("what stops serve at start-up, as typed errors", () => {
  const user = `fibrpc-int-${process.pid}`;
  const url = BROKER_URL.replace(/\/\/[^@]*@/, `//${user}:pw-${process.pid}@`);

  beforeAll(async () => {
    await rabbitmqctl("add_user", user, `pw-${process.pid}`);
  }, 30_000);
  afterAll(async () => {
    await rabbitmqctl("delete_user", user);
  }, 30_000);

  // rabbitmqctl set_permissions takes configure, write, read: each case withholds one.
  for (const [missing, permissions, queueExists] of [
    ["configure", ["^$", ".*", ".*"], false],
    ["read", [".*", ".*", "^$"], true],
    ["write", [".*", "^$", ".*"], true],
  ] as const) {
    test(`a user without ${missing} permission: refused, naming ${missing}, not the login`, async () => {
      const queue = uniqueQueue(`int-perm-${missing}`);
      if (queueExists) await declareQueue(queue, "quorum");
      await rabbitmqctl("set_permissions", "-p", "/", user, ...permissions);
      const worker = launchWorker(queue, { broker: { urls: [url] } });
      try {
        const failure = await worker.failure();
        expect(failure).toBeInstanceOf(BrokerRefusedError);
        expect((failure as BrokerRefusedError).code).toBe("REFUSED");
        expect((failure as Error).message).toContain(`lacks ${missing} permission on queue '${queue}'`);
        expect((failure as Error).message).not.toMatch(/password|login: wrong/);
      } finally {
        await worker.stop();
        await deleteQueue(queue);
      }
    }, 30_000);
  }

  test("a queue name over 255 bytes is a usage error at once, with no retry", async () => {
    const worker = launchWorker("q".repeat(300));
    const failure = await worker.failure();
    expect(failure).toBeInstanceOf(UsageError);
    expect((failure as UsageError).message).toContain("300 bytes");
  });

  test("a stream is refused: each worker would answer every request, and none would ever leave it", async () => {
    const queue = uniqueQueue("int-stream");
    await withChannel((channel) => channel.assertQueue(queue, { durable: true, arguments: { "x-queue-type": "stream" } }));
    const worker = launchWorker(queue);
    try {
      const failure = await worker.failure();
      expect(failure).toBeInstanceOf(UnservableQueueError);
      expect((failure as UsageError).code).toBe("USAGE");
      expect((failure as Error).message).toContain("is a stream");
    } finally {
      await worker.stop();
      await deleteQueue(queue);
    }
  });
});

describe("isStreamQueue, for serve, call and health alike", () => {
  test("true for a stream, false for classic and quorum queues, undefined for a missing one; creates nothing", async () => {
    const queues = { stream: uniqueQueue("int-is-stream"), quorum: uniqueQueue("int-is-quorum"), classic: uniqueQueue("int-is-classic") };
    const missing = uniqueQueue("int-is-missing");
    try {
      await withChannel(async (channel) => {
        await channel.assertQueue(queues.stream, { durable: true, arguments: { "x-queue-type": "stream", "x-max-age": "1D" } });
        await channel.assertQueue(queues.quorum, { durable: true, arguments: { "x-queue-type": "quorum", "x-max-length": 5 } });
        await channel.assertQueue(queues.classic, { durable: false, arguments: { "x-message-ttl": 1000 } });
      });
      const answers = await withChannel(async (_channel, connection) => ({
        stream: await isStreamQueue(connection, queues.stream),
        quorum: await isStreamQueue(connection, queues.quorum),
        classic: await isStreamQueue(connection, queues.classic),
        missing: await isStreamQueue(connection, missing),
      }));
      expect(answers).toEqual({ stream: true, quorum: false, classic: false, missing: undefined });
      expect(await queueState(missing)).toBeNull();
    } finally {
      for (const queue of Object.values(queues)) await deleteQueue(queue);
    }
  });
});

describe("limits of an adopted queue", () => {
  test("are logged once at start-up when they can drop or refuse requests, and serving goes on", async () => {
    const queue = uniqueQueue("int-limits");
    await withChannel((channel) =>
      channel.assertQueue(queue, {
        durable: true,
        arguments: { "x-queue-type": "quorum", "x-max-length": 1000, "x-overflow": "reject-publish", "x-delivery-limit": 5 },
      }),
    );
    const worker = await startWorker(queue, { queueKind: "classic" });
    const caller = await RawCaller.open();
    try {
      const warnings = worker.log.matching(/has limits that can drop or refuse requests/);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]?.level).toBe("warn");
      expect(warnings[0]?.message).toContain("at most 1000 requests (x-max-length; new requests are refused when it is full, x-overflow reject-publish)");
      expect(warnings[0]?.message).toContain("more than 5 times is dropped (x-delivery-limit)");
      await caller.send(queue, "10", { correlationId: "after-probe" });
      expect(await eventually(() => caller.reply("after-probe")?.content.toString() === "55")).toBe(true);
    } finally {
      await caller.close();
      await worker.stop();
      await deleteQueue(queue);
    }
  });

  test("a queue without limits, or one serve declared, gets no such line", async () => {
    const queue = uniqueQueue("int-nolimits");
    const worker = await startWorker(queue);
    try {
      expect(worker.log.matching(/has limits/)).toHaveLength(0);
    } finally {
      await worker.stop();
      await deleteQueue(queue);
    }
  });
});

describe("W3C trace context across the queue", () => {
  const PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

  test("the reply carries the caller's trace with the worker's own span, and tracestate; the log lines carry both ids", async () => {
    const queue = uniqueQueue("int-trace");
    const worker = await startWorker(queue, { maxN: 100 });
    const caller = await RawCaller.open();
    try {
      await caller.sendAll(queue, [
        { body: "10", properties: { correlationId: "traced", headers: { traceparent: PARENT, tracestate: "rojo=00f067aa0ba902b7" } } },
        { body: "101", properties: { correlationId: "traced-error", headers: { traceparent: PARENT } } },
        {
          body: "10",
          properties: { correlationId: "malformed", headers: { traceparent: "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01", tracestate: "rojo=1" } },
        },
        { body: "10", properties: { correlationId: "untraced" } },
      ]);
      expect(await eventually(() => ["traced", "traced-error", "malformed", "untraced"].every((id) => caller.reply(id) !== undefined))).toBe(true);
      const headersOf = (id: string) => caller.reply(id)?.properties.headers ?? {};
      const traced = parseTraceparent(headersOf("traced").traceparent);
      expect(traced?.traceId).toBe("0af7651916cd43dd8448eb211c80319c");
      expect(traced?.spanId).not.toBe("b7ad6b7169203331");
      expect(traced?.flags).toBe(1);
      expect(headersOf("traced").tracestate).toBe("rojo=00f067aa0ba902b7");
      expect(parseTraceparent(headersOf("traced-error").traceparent)?.traceId).toBe("0af7651916cd43dd8448eb211c80319c");
      expect(headersOf("traced-error")["x-error-code"]).toBe("OUT_OF_RANGE");
      // A malformed traceparent is no error: the request is answered in a trace of its own, its tracestate not passed on.
      expect(caller.reply("malformed")?.content.toString()).toBe("55");
      expect(parseTraceparent(headersOf("malformed").traceparent)?.traceId).not.toBe("0af7651916cd43dd8448eb211c80319c");
      expect(headersOf("malformed").tracestate).toBeUndefined();
      expect(parseTraceparent(headersOf("untraced").traceparent)).toBeDefined();

      const line = worker.log.entries.find((entry) => entry.message.includes("(correlation id traced)"));
      expect(line?.level).toBe("debug");
      expect(line?.fields).toMatchObject({
        trace_id: "0af7651916cd43dd8448eb211c80319c",
        span_id: traced?.spanId,
        span_name: `process ${queue}`,
        "messaging.message.conversation_id": "traced",
      });
    } finally {
      await caller.close();
      await worker.stop();
      await deleteQueue(queue);
    }
  });
});
