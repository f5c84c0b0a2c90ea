import { describe, expect, test } from "bun:test";
import { connectOptionsFor } from "../../src/rpc/failover-connection.ts";
import { DEFAULT_BACKOFF, delayBeforeAttempt, NodeRotation, shuffledOrder } from "../../src/rpc/failover-plan.ts";

/** A seeded generator (mulberry32), so the statistics below are the same on every run. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
    mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed;
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const NODES = ["amqp://a", "amqp://b", "amqp://c"] as const;

describe("node order", () => {
  test("each worker's order is a permutation of the list", () => {
    const random = seeded(1);
    for (let round = 0; round < 200; round++) {
      for (const count of [1, 2, 3, 5])
        expect(shuffledOrder(count, random).toSorted((a, b) => a - b)).toEqual(Array.from({ length: count }, (_, index) => index));
    }
  });

  test("a rotation visits every node once before it comes back to the first", () => {
    const rotation = new NodeRotation(NODES, seeded(2));
    const first = rotation.current;
    const visited = [first, rotation.advance(), rotation.advance()];
    expect(visited.toSorted()).toEqual([...NODES]);
    expect(rotation.advance()).toBe(first);
  });

  test("workers given the same list spread over its nodes", () => {
    const random = seeded(3);
    const workers = Array.from({ length: 3000 }, () => new NodeRotation(NODES, random));
    const firstChoices = countBy(workers.map((worker) => worker.current));
    for (const node of NODES) expect(firstChoices.get(node) ?? 0).toBeGreaterThan(900);
  });

  test("the workers of a node that dies spread over the survivors, not all onto the next one listed", () => {
    const random = seeded(4);
    const onA = Array.from({ length: 3000 }, () => new NodeRotation(NODES, random)).filter((worker) => worker.current === "amqp://a");
    const movedTo = countBy(onA.map((worker) => worker.advance()));
    expect(movedTo.get("amqp://a")).toBeUndefined();
    expect(movedTo.get("amqp://b") ?? 0).toBeGreaterThan(onA.length * 0.4);
    expect(movedTo.get("amqp://c") ?? 0).toBeGreaterThan(onA.length * 0.4);
  });
});

describe("backoff schedule", () => {
  const bounds = DEFAULT_BACKOFF;

  test("a node not yet tried in this run is tried at once", () => {
    expect(delayBeforeAttempt(1, 3, bounds)).toBe(0);
    expect(delayBeforeAttempt(2, 3, bounds)).toBe(0);
    expect(delayBeforeAttempt(4, 3, bounds)).toBe(0);
  });

  test("coming back to a node waits between the low bound and a ceiling that doubles per failed walk", () => {
    expect(delayBeforeAttempt(3, 3, bounds, () => 0)).toBe(bounds.lowMs);
    expect(delayBeforeAttempt(3, 3, bounds, () => 1)).toBe(bounds.lowMs * 2);
    expect(delayBeforeAttempt(6, 3, bounds, () => 1)).toBe(bounds.lowMs * 4);
    expect(delayBeforeAttempt(9, 3, bounds, () => 1)).toBe(bounds.lowMs * 8);
  });

  test("one node: every attempt backs off, never below the low bound nor above the high one", () => {
    const random = seeded(5);
    const delays = Array.from({ length: 40 }, (_, index) => delayBeforeAttempt(index + 1, 1, bounds, random));
    for (const delay of delays) {
      expect(delay).toBeGreaterThanOrEqual(bounds.lowMs);
      expect(delay).toBeLessThanOrEqual(bounds.highMs);
    }
    expect(Math.max(...delays.slice(20))).toBeGreaterThan(bounds.highMs / 2); // the ceiling did grow
    expect(delayBeforeAttempt(1000, 1, bounds, () => 1)).toBe(bounds.highMs); // and no overflow to Infinity
  });

  test("full jitter: workers that lost the same node at once do not come back in step", () => {
    const random = seeded(6);
    const delays = new Set(Array.from({ length: 50 }, () => delayBeforeAttempt(4, 1, bounds, random)));
    expect(delays.size).toBeGreaterThan(25);
  });
});

describe("connectOptionsFor (what amqplib would read from the URL string)", () => {
  test("guest/guest and the scheme's port when the URL says nothing", () => {
    expect(connectOptionsFor("amqp://rabbit")).toEqual({ protocol: "amqp", hostname: "rabbit", port: 5672, vhost: "" });
    expect(connectOptionsFor("amqps://rabbit").port).toBe(5671);
  });

  test("credentials decoded, vhost left escaped (amqplib unescapes it), IPv6 without brackets", () => {
    expect(connectOptionsFor("amqps://us%40er:p%3Aw%2Fd%C3%A9@[::1]:5999/prod%2Fa")).toEqual({
      protocol: "amqps",
      hostname: "::1",
      port: 5999,
      username: "us@er",
      password: "p:w/dé",
      vhost: "prod%2Fa",
    });
  });

  test("tuning parameters from the query; an explicit heartbeat wins over the URL's", () => {
    expect(connectOptionsFor("amqp://h/?heartbeat=7&frameMax=8192&channelMax=9&locale=en_US")).toMatchObject({
      heartbeat: 7,
      frameMax: 8192,
      channelMax: 9,
      locale: "en_US",
    });
    expect(connectOptionsFor("amqp://h/?heartbeat=7", 0).heartbeat).toBe(0);
  });
});

function countBy(values: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}
