import { describe, expect, test } from "bun:test";
import { nackRetryDelayMs } from "../../src/rpc/nack-policy.ts";
import { PendingRequests } from "../../src/rpc/pending-requests.ts";

describe("nackRetryDelayMs: a nacked request goes again, unless its queue keeps refusing it", () => {
  test("a queue that answers with real counts: two more tries, then refused (full, with reject-publish)", () => {
    expect(nackRetryDelayMs({ messageCount: 10, consumerCount: 0 }, 1)).toBe(100);
    expect(nackRetryDelayMs({ messageCount: 10, consumerCount: 2 }, 2)).toBe(200);
    expect(nackRetryDelayMs({ messageCount: 10, consumerCount: 2 }, 3)).toBeUndefined();
    expect(nackRetryDelayMs(null, 3)).toBeUndefined();
  });

  test("0/0 (a leader election) or no look at all: again until the deadline, the pause growing to at most a second", () => {
    expect(nackRetryDelayMs({ messageCount: 0, consumerCount: 0 }, 3)).toBe(400);
    expect(nackRetryDelayMs(undefined, 4)).toBe(800);
    expect(nackRetryDelayMs(undefined, 30)).toBe(1000);
  });
});

describe("PendingRequests", () => {
  test("each request times out at its own deadline, in any order of deadlines, by one timer", async () => {
    const expired: string[] = [];
    const pending = new PendingRequests<{ deadlineMs: number; name: string }>((request) => expired.push(request.name));
    const now = Date.now();
    pending.add("late", { deadlineMs: now + 60, name: "late" });
    pending.add("early", { deadlineMs: now + 20, name: "early" });
    pending.add("answered", { deadlineMs: now + 10, name: "answered" });
    expect(pending.take("answered")?.name).toBe("answered");
    expect(pending.take("answered")).toBeUndefined(); // a second reply finds nothing
    await Bun.sleep(40);
    expect(expired).toEqual(["early"]);
    await Bun.sleep(40);
    expect(expired).toEqual(["early", "late"]);
    expect(pending.size).toBe(0);
  });

  test("latestDeadlineMs bounds a failover; takeAll empties; stop disarms", async () => {
    const expired: string[] = [];
    const pending = new PendingRequests<{ deadlineMs: number }>(() => expired.push("x"));
    expect(pending.latestDeadlineMs(5)).toBe(5);
    pending.add("a", { deadlineMs: Date.now() + 10 });
    pending.add("b", { deadlineMs: Date.now() + 500 });
    expect(pending.latestDeadlineMs(0)).toBeGreaterThan(Date.now() + 400);
    pending.stop();
    await Bun.sleep(30);
    expect(expired).toEqual([]);
    expect(pending.takeAll()).toHaveLength(2);
    expect(pending.size).toBe(0);
  });
});
