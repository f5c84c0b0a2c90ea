import { describe, expect, test } from "bun:test";
import { directReplyNode } from "../../src/rpc/direct-reply-to.ts";
import { ReplyNodeHealth } from "../../src/rpc/reply-node-health.ts";
import { deadNodeReplyTo } from "../support/direct-reply-to.ts";

/** As RabbitMQ 3.10.8 named a caller's address (seen on the broker of these tests). */
const REAL_3_10 = "amq.rabbitmq.reply-to.g1h2AA1yZXBseUA5MjQ4ODg0AAAYmgAAAABrDQ6y.tPCohvlJssC5WyjX1bnMIA==";
/** The pre-3.10 form: the pid's node is the node name itself. */
const OLD_FORM = "amq.rabbitmq.reply-to.g2dkAA5yYWJiaXRAbm9ib2R5AAAAAAAAAAAA";

describe("directReplyNode", () => {
  test("reads the node of a direct reply-to address, in either form", () => {
    expect(directReplyNode(REAL_3_10)).toBe("reply@9248884");
    expect(directReplyNode(OLD_FORM)).toStartWith("rabbit@nobody"); // this crafted one counts a NUL into the name
    expect(directReplyNode(deadNodeReplyTo("1234567"))).toBe("reply@1234567");
  });

  test("anything else names no node", () => {
    for (const address of [
      "rpc_reply",
      "amq.gen-abc",
      "amq.rabbitmq.reply-to",
      "amq.rabbitmq.reply-to.garbage",
      "amq.rabbitmq.reply-to.",
      "amq.rabbitmq.reply-to.g1h2AA1y",
      "amq.rabbitmq.reply-to.!!!",
    ]) {
      expect(directReplyNode(address)).toBeUndefined();
    }
  });
});

describe("ReplyNodeHealth", () => {
  const onA = deadNodeReplyTo("1111111");
  const alsoOnA = deadNodeReplyTo("1111111");
  const onB = deadNodeReplyTo("2222222");

  test("a reply to a named queue is always sent (an unknown queue only makes it unroutable)", () => {
    const health = new ReplyNodeHealth(1000);
    health.suspect(["rpc_replies"]);
    expect(health.verdict("rpc_replies", 0)).toBe("send");
  });

  test("a caller's node not seen yet is checked once, then trusted for every caller on it", () => {
    const health = new ReplyNodeHealth(1000);
    expect(health.verdict(onA, 0)).toBe("check");
    expect(health.record(onA, "alive", 0)).toBe(true);
    expect(health.verdict(alsoOnA, 1)).toBe("send"); // by node, not by address
    expect(health.verdict(onB, 1)).toBe("check");
  });

  test("after a loss, the trusted nodes then in flight are checked again; one found alive is trusted again", () => {
    const health = new ReplyNodeHealth(1000);
    health.record(onA, "alive", 0);
    health.record(onB, "alive", 0);
    health.suspect([onA, "a-named-queue"]);
    expect(health.verdict(alsoOnA, 1)).toBe("check");
    expect(health.verdict(onB, 1)).toBe("send");
    expect(health.record(alsoOnA, "alive", 2)).toBe(true);
    expect(health.verdict(onA, 3)).toBe("send");
  });

  test("a caller gone from a live node: its request is dropped, its node is trusted", () => {
    const health = new ReplyNodeHealth(1000);
    expect(health.record(onA, "gone", 0)).toBe(false);
    expect(health.verdict(alsoOnA, 1)).toBe("send");
  });

  test("a node found down: its replies are dropped without a check, then checked again after the interval", () => {
    const health = new ReplyNodeHealth(1000);
    expect(health.record(onA, "node-down", 5000)).toBe(false);
    expect(health.verdict(alsoOnA, 5999)).toBe("drop");
    expect(health.verdict(onB, 5999)).toBe("check");
    expect(health.verdict(alsoOnA, 6000)).toBe("check");
    expect(health.record(alsoOnA, "gone", 6000)).toBe(false); // the node is back; that old caller is not
    expect(health.verdict(onA, 6001)).toBe("send");
  });

  test("a check that failed counts as down until the next one, so a broken check cannot hammer the broker", () => {
    const health = new ReplyNodeHealth(1000);
    expect(health.record(onA, "unknown", 0)).toBe(false);
    expect(health.verdict(onA, 500)).toBe("drop");
    expect(health.verdict(onA, 1000)).toBe("check");
  });

  test("a suspicion does not clear a node already known down", () => {
    const health = new ReplyNodeHealth(1000);
    health.record(onA, "node-down", 0);
    health.suspect([onA]);
    expect(health.verdict(onA, 10)).toBe("drop");
  });

  test("an address that does not decode (made up, or a format not known here) is checked, and tracked by itself", () => {
    const health = new ReplyNodeHealth(1000);
    const garbled = "amq.rabbitmq.reply-to.nonsense.abc";
    expect(health.verdict(garbled, 0)).toBe("check");
    expect(health.record(garbled, "node-down", 0)).toBe(false);
    expect(health.verdict(garbled, 10)).toBe("drop");
    expect(health.verdict("amq.rabbitmq.reply-to.other.abc", 10)).toBe("check");
  });
});
