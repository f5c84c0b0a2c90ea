import { describe, expect, test } from "bun:test";
import { checkBrokerUrl } from "../../src/config.ts";
import { UsageError } from "../../src/errors.ts";
import { formatDurationMs, parseDurationMs } from "../../src/duration.ts";

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
      [1_234_400, "1234s"], // from 100 s on, whole seconds rather than three figures
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

describe("durations: the edges", () => {
  test("fractions with several digits, with or without a leading zero; surrounding blanks are ignored", () => {
    expect(parseDurationMs(".25")).toBe(250);
    expect(parseDurationMs("1.25s")).toBe(1250);
    expect(parseDurationMs(".125m")).toBe(7500);
    expect(parseDurationMs(" 2s\n")).toBe(2000);
  });

  test.each([".", "1.", ".s", ".x5", "9".repeat(400)])("rejects %p (the last is too large to be a number)", (text) => {
    expect(parseDurationMs(text)).toBeUndefined();
  });

  test("a whole second is written in seconds", () => {
    expect(formatDurationMs(999)).toBe("999ms");
    expect(formatDurationMs(999.6)).toBe("1s"); // three figures: 999.6 ms is 1.00 s
    expect(formatDurationMs(1000)).toBe("1s");
    expect([formatDurationMs(99_940), formatDurationMs(99_960), formatDurationMs(100_400)]).toEqual(["99.9s", "100s", "100s"]);
    expect(formatDurationMs(0.0004)).toBe("0ms");
  });
});

describe("checkBrokerUrl: the query amqplib reads, and nothing it would ignore", () => {
  test.each(["?heartbeat=10", "?heartbeat=0&frameMax=131072", "?channelMax=16&locale=en_US", "?frameMax=0", "?maxFrameSize=4096"])("accepts %p", (query) => {
    expect(checkBrokerUrl(`amqp://h${query}`)).toBe(`amqp://h${query}`);
  });

  test.each([
    ["?heartbeat=abc", "URL parameter heartbeat must be a whole number of seconds"],
    ["?heartbeat=70000", "URL parameter heartbeat must be"],
    ["?heartbeat=-1", "URL parameter heartbeat must be"],
    ["?frameMax=100", "URL parameter frameMax must be 0 (no limit) or"],
    ["?channelMax=1.5", "URL parameter channelMax must be"],
    ["?locale=", "URL parameter locale must be"],
    ["?heartbeat=5&heartbeat=6", "URL parameter heartbeat is given twice"],
    ["?hearbeat=5", "unknown URL parameter 'hearbeat' (amqplib reads heartbeat, channelMax, frameMax, maxFrameSize, locale)"],
    ["?password=S3cr3tXYZ", "unknown URL parameter 'password'"],
    ["#frag", "has a '#' part"],
  ])("refuses %p", (query, message) => {
    expect(() => checkBrokerUrl(`amqp://h${query}`)).toThrow(UsageError);
    expect(() => checkBrokerUrl(`amqp://h${query}`)).toThrow(message);
    expect(() => checkBrokerUrl(`amqp://h${query}`)).not.toThrow(/S3cr3tXYZ/);
  });
});
