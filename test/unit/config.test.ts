import { describe, expect, test } from "bun:test";
import { checkBrokerUrl, DEFAULT_URL, redactUrl, resolveUrl, scrubSecret } from "../../src/config.ts";
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

describe("redactUrl and scrubSecret", () => {
  test("hide the password and keep the rest", () => {
    expect(redactUrl("amqp://bob:s3cr%40t@broker:5672/vh")).toBe("amqp://bob:***@broker:5672/vh");
    expect(redactUrl("amqp://broker")).toBe("amqp://broker");
  });

  test("scrub a password wherever it appears in a message", () => {
    const url = "amqp://bob:hunter2@broker:5672";
    expect(scrubSecret(`cannot reach ${url}: hunter2 rejected`, url)).toBe("cannot reach amqp://bob:***@broker:5672: *** rejected");
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

describe("scrubSecret with awkward passwords", () => {
  test("a short password is masked as a whole token, not inside words", () => {
    const url = "amqp://bob:p@broker:5672";
    expect(scrubSecret("amqp://bob:***@broker:5672 said: p is wrong", url)).toBe("amqp://bob:***@broker:5672 said: *** is wrong");
  });

  test("a password equal to the user name leaves the user visible", () => {
    const url = "amqp://guest:guest@broker:5672";
    expect(scrubSecret(`broker at ${url} refused user 'guest'`, url)).toBe("broker at amqp://guest:***@broker:5672 refused user 'guest'");
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
    expect(formatDurationMs(1000)).toBe("1s");
  });
});
