import { describe, expect, test } from "bun:test";
import { checkBrokerUrl, DEFAULT_URL, resolveUrl } from "../../src/config.ts";
import { UsageError } from "../../src/errors.ts";
import { formatDurationMs, parseDurationMs } from "../../src/duration.ts";

describe("resolveUrl", () => {
  test("flag wins over AMQP_URL, which wins over the default", () => {
    expect(resolveUrl("amqp://flag", { AMQP_URL: "amqp://env" })).toBe("amqp://flag");
    expect(resolveUrl(undefined, { AMQP_URL: "amqp://env" })).toBe("amqp://env");
    expect(resolveUrl(undefined, {})).toBe(DEFAULT_URL);
    expect(resolveUrl("", { AMQP_URL: "" })).toBe(DEFAULT_URL);
  });
});

describe("durations", () => {
  test("plain numbers are seconds; units ms, s, m, h", () => {
    expect(parseDurationMs("2")).toBe(2000);
    expect(parseDurationMs("0.5")).toBe(500);
    expect(parseDurationMs("500ms")).toBe(500);
    expect(parseDurationMs("2s")).toBe(2000);
    expect(parseDurationMs("1m")).toBe(60_000);
    expect(parseDurationMs("1h")).toBe(3_600_000);
  });

  test.each(["", "abc", "-1", "1x", "1 s s", "1e3"])("rejects %p", (text) => {
    expect(parseDurationMs(text)).toBeUndefined();
  });

  test("formats back for messages", () => {
    expect(formatDurationMs(250)).toBe("250ms");
    expect(formatDurationMs(1500)).toBe("1.5s");
  });
});

describe("checkBrokerUrl", () => {
  test("accepts amqp and amqps URLs", () => {
    expect(checkBrokerUrl("amqp://guest:guest@localhost:5672")).toBe("amqp://guest:guest@localhost:5672");
    expect(checkBrokerUrl("amqps://rabbit.example.com/prod?heartbeat=10")).toBe("amqps://rabbit.example.com/prod?heartbeat=10");
  });

  test("refuses what cannot name a broker as a usage error, without the password", () => {
    for (const url of ["foo", "http://x", "amqp://u:hunter2@host:99999", "amqp://:5672"]) {
      expect(() => checkBrokerUrl(url)).toThrow(UsageError);
      expect(() => checkBrokerUrl(url)).not.toThrow(/hunter2/);
    }
  });
});
