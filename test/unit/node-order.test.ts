import { describe, expect, test } from "bun:test";
import { nodeOrder } from "../../src/rpc/broker.ts";

const urls = ["amqp://a", "amqp://b", "amqp://c"];

describe("nodeOrder: the order a caller tries the listed nodes in", () => {
  test("round the list from the start it is given, each node once", () => {
    expect(nodeOrder(urls, { start: 0 })).toEqual(urls);
    expect(nodeOrder(urls, { start: 2 })).toEqual(["amqp://c", "amqp://a", "amqp://b"]);
  });

  test("the node just lost goes last, unless it is the only one", () => {
    expect(nodeOrder(urls, { start: 1, skip: "amqp://b" })).toEqual(["amqp://c", "amqp://a", "amqp://b"]);
    expect(nodeOrder(["amqp://a"], { skip: "amqp://a" })).toEqual(["amqp://a"]);
  });

  test("without a start, callers given one list spread over its nodes", () => {
    const firsts = new Map<string, number>();
    for (let index = 0; index < 3000; index++) {
      const first = nodeOrder(urls)[0] ?? "";
      firsts.set(first, (firsts.get(first) ?? 0) + 1);
    }
    expect([...firsts.keys()].sort()).toEqual(urls);
    for (const count of firsts.values()) expect(count).toBeGreaterThan(800); // about 1000 each
  });
});
