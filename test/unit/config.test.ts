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

  test("one format for every duration and latency: three significant figures, ms below a second", () => {
    const cases: [number, string][] = [
      [0, "0ms"],
      [0.3841, "0.384ms"],
      [3.1, "3.1ms"],
      [45.63, "45.6ms"],
      [250, "250ms"],
      [999.7, "1s"],
      [1500, "1.5s"],
      [1234.5, "1.23s"],
      [10_000, "10s"],
      [600_000, "600s"],
    ];
    for (const [ms, text] of cases) expect({ ms, text: formatDurationMs(ms) }).toEqual({ ms, text });
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
