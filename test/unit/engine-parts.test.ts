import { afterEach, beforeEach, describe, expect, jest, test } from "bun:test";
import { nackRetryDelayMs } from "../../src/rpc/nack-policy.ts";
import { PendingRequests } from "../../src/rpc/pending-requests.ts";

describe("nackRetryDelayMs: a nacked request goes again, unless its queue keeps refusing it for longer than an election", () => {
  const full = { messageCount: 10, consumerCount: 0 };
  const served = { messageCount: 10, consumerCount: 2 };

  test("a queue that answers with real counts: refused once three nacks span 1.5 s (full, with reject-publish)", () => {
    expect(nackRetryDelayMs(full, 1, 0)).toBe(100);
    expect(nackRetryDelayMs(served, 2, 100)).toBe(200);
    expect(nackRetryDelayMs(served, 3, 300)).toBe(400); // three nacks, but within an election's length: a link renewed during it
    expect(nackRetryDelayMs(served, 5, 1499)).toBe(1000);
    expect(nackRetryDelayMs(served, 5, 1500)).toBeUndefined();
    expect(nackRetryDelayMs(null, 3, 1500)).toBeUndefined();
    expect(nackRetryDelayMs(full, 2, 60_000)).toBe(200); // two nacks are never enough, however far apart
  });

  test("0/0 (a leader election) or no look at all: again until the deadline, the pause growing to at most a second", () => {
    expect(nackRetryDelayMs({ messageCount: 0, consumerCount: 0 }, 3, 5000)).toBe(400);
    expect(nackRetryDelayMs(undefined, 4, 5000)).toBe(800);
    expect(nackRetryDelayMs(undefined, 30, 60_000)).toBe(1000);
  });
});

// Fake timers: the clock moves only when a test moves it, so each deadline is checked to the
// millisecond without waiting for it (and without a test that fails on a loaded machine).
describe("PendingRequests", () => {
  const T0 = 1_800_000_000_000;
  type Request = { deadlineMs: number; name: string };
  let expired: string[] = [];
  const pendingFor = () => new PendingRequests<Request>((request) => expired.push(request.name));
  const request = (name: string, inMs: number): Request => ({ deadlineMs: T0 + inMs, name });

  beforeEach(() => {
    expired = [];
    jest.useFakeTimers({ now: T0 });
  });
  afterEach(() => jest.useRealTimers());

  test("each request times out at its own deadline, not a millisecond before, by one timer", () => {
    const pending = pendingFor();
    pending.add("late", request("late", 60));
    pending.add("early", request("early", 20));
    pending.add("answered", request("answered", 10));
    expect(pending.take("answered")?.name).toBe("answered");
    expect(pending.take("answered")).toBeUndefined(); // a second reply finds nothing
    jest.advanceTimersByTime(19);
    expect(expired).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(expired).toEqual(["early"]);
    expect(jest.getTimerCount()).toBe(1);
    jest.advanceTimersByTime(39);
    expect(expired).toEqual(["early"]);
    jest.advanceTimersByTime(1);
    expect(expired).toEqual(["early", "late"]);
    expect(pending.size).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
  });

  test("a later deadline added afterwards does not put off an earlier one", () => {
    const pending = pendingFor();
    pending.add("early", request("early", 20));
    pending.add("late", request("late", 60));
    jest.advanceTimersByTime(20);
    expect(expired).toEqual(["early"]);
  });

  test("the one timer sleeps until the earliest deadline (it does not tick meanwhile)", () => {
    const pending = pendingFor();
    pending.add("late", request("late", 60));
    pending.add("early", request("early", 20));
    jest.advanceTimersToNextTimer();
    expect({ atMs: Date.now() - T0, expired }).toEqual({ atMs: 20, expired: ["early"] });
    jest.advanceTimersToNextTimer();
    expect({ atMs: Date.now() - T0, expired }).toEqual({ atMs: 60, expired: ["early", "late"] });
  });

  test("after a timeout the timer is due at the earliest deadline left, not at the last one added", () => {
    const pending = pendingFor();
    pending.add("first", request("first", 10));
    pending.add("second", request("second", 30));
    pending.add("fourth", request("fourth", 50));
    pending.add("third", request("third", 40));
    jest.advanceTimersByTime(10);
    expect(expired).toEqual(["first"]);
    jest.advanceTimersByTime(20);
    expect(expired).toEqual(["first", "second"]);
    jest.advanceTimersByTime(20);
    expect(expired).toEqual(["first", "second", "third", "fourth"]);
  });

  test("get looks without taking; entries lists what waits (a failover sends it all again)", () => {
    const pending = pendingFor();
    const a = request("a", 10);
    const b = request("b", 20);
    pending.add("1", a);
    pending.add("2", b);
    expect(pending.get("1")).toBe(a);
    expect(pending.get("3")).toBeUndefined();
    expect([...pending.entries()]).toEqual([
      ["1", a],
      ["2", b],
    ]);
    expect(pending.size).toBe(2);
  });

  test("latestDeadlineMs bounds a failover; takeAll empties; stop disarms, and a request added later arms again", () => {
    const pending = pendingFor();
    expect(pending.latestDeadlineMs(T0)).toBe(T0);
    pending.add("a", request("a", 10));
    pending.add("b", request("b", 500));
    expect(pending.latestDeadlineMs(T0)).toBe(T0 + 500);
    pending.stop();
    jest.advanceTimersByTime(1000);
    expect(expired).toEqual([]);
    expect(pending.takeAll().map((taken) => taken.name)).toEqual(["a", "b"]);
    expect(pending.size).toBe(0);
    pending.add("c", request("c", 1010));
    jest.advanceTimersByTime(10);
    expect(expired).toEqual(["c"]);
  });
});
