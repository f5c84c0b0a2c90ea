import "../support/preflight.ts";
import { describe, expect, test } from "bun:test";
import { deleteQueue, eventually, queueState, uniqueQueue } from "../support/broker.ts";
import { deadNodeReplyTo } from "../support/direct-reply-to.ts";
import { startWorker } from "../support/in-process-worker.ts";
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
      const requests = Array.from({ length: 60 }, (_, index) =>
        index % 3 === 0
          ? { body: "20", properties: { correlationId: `dead-${index}`, replyTo: deadCaller } }
          : { body: "20", properties: { correlationId: `live-${index}` } },
      );
      await caller.sendAll(queue, requests);
      const live = requests.filter((request) => request.properties.correlationId.startsWith("live"));
      expect(await eventually(() => live.every((request) => caller.reply(request.properties.correlationId) !== undefined), 15_000)).toBe(true);
      expect(await eventually(async () => (await queueState(queue))?.messageCount === 0)).toBe(true);
      // Later requests to that dead node are dropped without another loss.
      await doomed.sendAll(queue, Array.from({ length: 20 }, (_, index) => ({ body: "20", properties: { correlationId: `late-${index}`, replyTo: deadCaller } })));
      await caller.send(queue, "20", { correlationId: "after" });
      expect(await eventually(() => caller.reply("after") !== undefined)).toBe(true);

      console.log(`FIGURES storm (one node, forged dead-node address) ${JSON.stringify({ reconnects: worker.observer.reconnects, dropped: worker.observer.finished.filter((request) => request.outcome === "dropped").length })}`);
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
