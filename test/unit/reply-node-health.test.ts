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
    for (const address of ["rpc_reply", "amq.gen-abc", "amq.rabbitmq.reply-to", "amq.rabbitmq.reply-to.garbage", "amq.rabbitmq.reply-to.", "amq.rabbitmq.reply-to.g1h2AA1y", "amq.rabbitmq.reply-to.!!!"]) {
      expect(directReplyNode(address)).toBeUndefined();
    }
  });
});

describe("ReplyNodeHealth", () => {
  const onA = deadNodeReplyTo("1111111");
  const alsoOnA = deadNodeReplyTo("1111111");
  const onB = deadNodeReplyTo("2222222");

  test("replies are sent without a check until a connection died over them", () => {
    const health = new ReplyNodeHealth(1000);
    expect(health.verdict(onA, 0)).toBe("send");
    expect(health.verdict("a-named-queue", 0)).toBe("send");
  });

  test("after a loss, every node then in flight is checked once; a node found alive is trusted again", () => {
    const health = new ReplyNodeHealth(1000);
    health.suspect([onA, onB, "a-named-queue"]);
    expect(health.verdict(onA, 0)).toBe("check");
    expect(health.verdict(alsoOnA, 0)).toBe("check"); // by node, not by address
    expect(health.verdict(onB, 0)).toBe("check");
    expect(health.verdict("a-named-queue", 0)).toBe("send");
    expect(health.record(onB, "alive", 0)).toBe(true);
    expect(health.verdict(onB, 1)).toBe("send");
  });

  test("a caller gone from a live node: its request is dropped, its node is trusted", () => {
    const health = new ReplyNodeHealth(1000);
    health.suspect([onA]);
    expect(health.record(onA, "gone", 0)).toBe(false);
    expect(health.verdict(alsoOnA, 1)).toBe("send");
  });

  test("a node found down: its replies are dropped without a check, then checked again after the interval", () => {
    const health = new ReplyNodeHealth(1000);
    health.suspect([onA]);
    expect(health.record(onA, "node-down", 5000)).toBe(false);
    expect(health.verdict(alsoOnA, 5999)).toBe("drop");
    expect(health.verdict(onB, 5999)).toBe("send");
    expect(health.verdict(alsoOnA, 6000)).toBe("check");
    expect(health.record(alsoOnA, "gone", 6000)).toBe(false); // the node is back; that old caller is not
    expect(health.verdict(onA, 6001)).toBe("send");
  });

  test("a check that failed counts as down until the next one, so a broken check cannot hammer the broker", () => {
    const health = new ReplyNodeHealth(1000);
    health.suspect([onA]);
    expect(health.record(onA, "unknown", 0)).toBe(false);
    expect(health.verdict(onA, 500)).toBe("drop");
    expect(health.verdict(onA, 1000)).toBe("check");
  });

  test("a suspicion does not clear a node already known down", () => {
    const health = new ReplyNodeHealth(1000);
    health.suspect([onA]);
    health.record(onA, "node-down", 0);
    health.suspect([onA]);
    expect(health.verdict(onA, 10)).toBe("drop");
  });
});
