import { describe, expect, test } from "bun:test";
import { PoisonLedger } from "../../src/rpc/poison-ledger.ts";
import { triageRequest, type RequestFacts } from "../../src/rpc/triage.ts";

const NOW = 1_800_000_000_000;
const facts = (overrides: Partial<RequestFacts> = {}): RequestFacts => ({
  body: new TextEncoder().encode("30"),
  replyTo: "amq.rabbitmq.reply-to.abc",
  timestamp: undefined,
  expiration: undefined,
  poisoned: false,
  ...overrides,
});

describe("triageRequest", () => {
  test("a good request is computed", () => {
    expect(triageRequest(facts(), NOW, 1000)).toEqual({ action: "compute", replyTo: "amq.rabbitmq.reply-to.abc", n: 30 });
  });

  test("a malformed or too large n gets an error reply, never a drop", () => {
    expect(triageRequest(facts({ body: new TextEncoder().encode("x") }), NOW, 1000)).toMatchObject({ action: "reject", error: { code: "INVALID_ARGUMENT" } });
    expect(triageRequest(facts({ body: new TextEncoder().encode("1001") }), NOW, 1000)).toMatchObject({ action: "reject", error: { code: "OUT_OF_RANGE" } });
  });

  test("no reply_to: dropped with a warning", () => {
    expect(triageRequest(facts({ replyTo: undefined }), NOW, 1000)).toMatchObject({ action: "drop", level: "warn" });
    expect(triageRequest(facts({ replyTo: "" }), NOW, 1000)).toMatchObject({ action: "drop", level: "warn" });
  });

  test("past its deadline (timestamp + expiration): dropped, not computed", () => {
    const sentSeconds = Math.floor(NOW / 1000) - 10;
    expect(triageRequest(facts({ timestamp: sentSeconds, expiration: "5000" }), NOW, 1000)).toMatchObject({ action: "drop", level: "debug" });
    expect(triageRequest(facts({ timestamp: sentSeconds, expiration: "60000" }), NOW, 1000)).toMatchObject({ action: "compute" });
    expect(triageRequest(facts({ timestamp: sentSeconds }), NOW, 1000)).toMatchObject({ action: "compute" });
  });

  test("a poisoned request is dropped even when it looks fine", () => {
    expect(triageRequest(facts({ poisoned: true }), NOW, 1000)).toMatchObject({ action: "drop", level: "warn" });
  });
});

describe("PoisonLedger", () => {
  test("one strike makes a suspect, two make poison, a confirmed reply clears", () => {
    const ledger = new PoisonLedger();
    const key = PoisonLedger.keyOf("id-1", "reply");
    expect(ledger.isSuspect(key)).toBe(false);
    ledger.blame([key]);
    expect(ledger.isSuspect(key)).toBe(true);
    expect(ledger.isPoisoned(key)).toBe(false);
    ledger.blame([key]);
    expect(ledger.isPoisoned(key)).toBe(true);
    ledger.clear(key);
    expect(ledger.isSuspect(key) || ledger.isPoisoned(key)).toBe(false);
  });

  test("keeps at most its capacity, forgetting the oldest", () => {
    const ledger = new PoisonLedger(2);
    ledger.blame(["a", "b", "c"]);
    expect(ledger.isSuspect("a")).toBe(false);
    expect(ledger.isSuspect("b")).toBe(true);
    expect(ledger.isSuspect("c")).toBe(true);
  });
});

describe("triageRequest: reasons and edges", () => {
  test("each drop says why, in the field the worker's metrics read and in the words its log shows", () => {
    expect(triageRequest(facts({ replyTo: undefined }), NOW, 1000)).toEqual({
      action: "drop",
      why: "no-reply-to",
      level: "warn",
      reason: "request without reply_to cannot be answered; acked and dropped",
    });
    const long = `q-${"x".repeat(200)}`;
    expect(triageRequest(facts({ replyTo: long, poisoned: true }), NOW, 1000)).toEqual({
      action: "drop",
      why: "poisoned",
      level: "warn",
      reason: `replying to '${long.slice(0, 80)}' made the broker close the channel twice; acked without an answer`,
    });
    const sentSeconds = Math.floor(NOW / 1000) - 10;
    expect(triageRequest(facts({ timestamp: sentSeconds, expiration: "1000" }), NOW, 1000)).toEqual({
      action: "drop",
      why: "expired",
      level: "debug",
      reason: "request expired before it was taken; acked, not computed",
    });
  });

  test("a request taken at its very deadline is still computed", () => {
    const sentSeconds = Math.floor(NOW / 1000) - 10;
    const exactly = NOW - (sentSeconds + 1) * 1000; // the TTL that puts the deadline at NOW
    expect(triageRequest(facts({ timestamp: sentSeconds, expiration: String(exactly) }), NOW, 1000)).toMatchObject({ action: "compute" });
    expect(triageRequest(facts({ timestamp: sentSeconds, expiration: String(exactly - 1) }), NOW, 1000)).toMatchObject({ action: "drop" });
  });
});

describe("PoisonLedger.keyOf", () => {
  test("one key per correlation id and reply_to, so one request's strikes are not another's", () => {
    const keys = new Set([
      PoisonLedger.keyOf("1", "a"),
      PoisonLedger.keyOf("1", "b"),
      PoisonLedger.keyOf("2", "a"),
      PoisonLedger.keyOf(undefined, "a"),
      PoisonLedger.keyOf("1", undefined),
    ]);
    expect(keys.size).toBe(5);
    expect(PoisonLedger.keyOf("1", "a")).toBe(PoisonLedger.keyOf("1", "a"));
  });
});
