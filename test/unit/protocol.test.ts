import { describe, expect, test } from "bun:test";
import {
  APP_ID,
  APPLICATION_JSON,
  buildReply,
  decodeReply,
  DEFAULT_QUEUE,
  DIRECT_REPLY_TO,
  encodeErrorBody,
  ERROR_CODE_HEADER,
  ERROR_TYPE,
  MAX_REQUEST_BYTES,
  parseN,
  parseRequestBody,
  requestDeadlineMs,
  requestProperties,
  TEXT_PLAIN,
} from "../../src/protocol.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const codeOf = (body: Uint8Array, maxN = 1000) => {
  const parsed = parseRequestBody(body, maxN);
  return parsed.ok ? parsed.n : parsed.error.code;
};

describe("parseRequestBody", () => {
  test("accepts decimal integers up to max-n", () => {
    expect(codeOf(bytes("0"))).toBe(0);
    expect(codeOf(bytes("30"))).toBe(30);
    expect(codeOf(bytes("1000"))).toBe(1000);
    expect(codeOf(bytes("030"))).toBe(30);
  });

  test.each(["", "-1", "3.5", "1e3", "0x10", " 30", "30 ", "3 0", "+5", "٣", "thirty", "30\n"])("rejects %p as INVALID_ARGUMENT", (text) => {
    expect(codeOf(bytes(text))).toBe("INVALID_ARGUMENT");
  });

  test("rejects bytes that are not UTF-8", () => {
    expect(codeOf(new Uint8Array([0xff, 0xfe, 0x33]))).toBe("INVALID_ARGUMENT");
  });

  test("rejects a million digits without parsing them", () => {
    expect(codeOf(bytes("9".repeat(1_000_000)))).toBe("INVALID_ARGUMENT");
  });

  test("n above max-n is OUT_OF_RANGE, and so is one beyond safe integers", () => {
    expect(codeOf(bytes("1001"))).toBe("OUT_OF_RANGE");
    expect(codeOf(bytes("99999999999999999999"), Number.MAX_SAFE_INTEGER)).toBe("OUT_OF_RANGE");
  });
});

describe("decodeReply", () => {
  test("a plain digits body is a value, as tutorial servers send it", () => {
    expect(decodeReply(bytes("832040"), {})).toEqual({ ok: true, value: "832040" });
  });

  test("an error reply carries code and message", () => {
    const body = bytes(encodeErrorBody({ code: "OUT_OF_RANGE", message: "too big" }));
    expect(decodeReply(body, { type: "error" })).toEqual({ ok: false, error: { code: "OUT_OF_RANGE", message: "too big" } });
  });

  test("an unparseable error body falls back to the x-error-code header", () => {
    expect(decodeReply(bytes("boom"), { type: "error", headers: { "x-error-code": "INTERNAL" } })).toEqual({
      ok: false,
      error: { code: "INTERNAL", message: "boom" },
    });
  });

  test("garbage that is not an error reply is reported, not printed as a value", () => {
    const reply = decodeReply(bytes("not a number"), {});
    expect(reply.ok).toBe(false);
  });
});

describe("requestDeadlineMs", () => {
  test("adds a second of slack for the whole-second timestamp", () => {
    expect(requestDeadlineMs(1000, "500")).toBe(1_001_500);
  });

  test("is undefined without timestamp or expiration (tutorial clients send neither)", () => {
    expect(requestDeadlineMs(undefined, "500")).toBeUndefined();
    expect(requestDeadlineMs(1000, undefined)).toBeUndefined();
    expect(requestDeadlineMs(1000, "soon")).toBeUndefined();
  });
});

describe("the wire contract's names (SPEC §1): other programs depend on them byte for byte", () => {
  test("queue, reply-to, content types, error type and header", () => {
    expect({ DEFAULT_QUEUE, APP_ID, DIRECT_REPLY_TO, TEXT_PLAIN, APPLICATION_JSON, ERROR_TYPE, ERROR_CODE_HEADER }).toEqual({
      DEFAULT_QUEUE: "rpc_queue",
      APP_ID: "fibrpc",
      DIRECT_REPLY_TO: "amq.rabbitmq.reply-to",
      TEXT_PLAIN: "text/plain",
      APPLICATION_JSON: "application/json",
      ERROR_TYPE: "error",
      ERROR_CODE_HEADER: "x-error-code",
    });
  });
});

describe("parseRequestBody and parseN: limits and reasons", () => {
  const messageOf = (parsed: ReturnType<typeof parseN>) => (parsed.ok ? "" : parsed.error.message);

  test(`a body of ${MAX_REQUEST_BYTES} bytes is read; one byte more is refused as too long, before decoding`, () => {
    expect(parseRequestBody(bytes(`${"0".repeat(MAX_REQUEST_BYTES - 2)}30`), 1000)).toEqual({ ok: true, n: 30 });
    const tooLong = parseRequestBody(new Uint8Array(MAX_REQUEST_BYTES + 1).fill(0xff), 1000);
    expect(messageOf(tooLong)).toBe(`request too long (${MAX_REQUEST_BYTES + 1} bytes): expected a non-negative decimal integer`);
  });

  test("text of the same lengths, as the command line gives it", () => {
    expect(parseN(`${"0".repeat(MAX_REQUEST_BYTES - 1)}7`, 10)).toEqual({ ok: true, n: 7 });
    expect(messageOf(parseN("1".repeat(MAX_REQUEST_BYTES + 1), 10))).toStartWith(`request too long (${MAX_REQUEST_BYTES + 1} characters)`);
  });

  test("each refusal says why", () => {
    expect(messageOf(parseN("", 10))).toBe("empty request: expected a non-negative decimal integer");
    expect(messageOf(parseN("1x", 10))).toBe('not a non-negative decimal integer: "1x"');
    expect(messageOf(parseN("11", 10))).toBe("n=11 is above this server's maximum of 10");
    // Bad UTF-8 is named as such, not decoded into replacement characters and then called "not a number".
    expect(messageOf(parseRequestBody(new Uint8Array([0xff, 0x33]), 10))).toBe("request body is not valid UTF-8");
  });
});

describe("decodeReply: what a worker may send back", () => {
  const error = (text: string, headers?: Record<string, unknown>) => decodeReply(bytes(text), { type: "error", headers });

  test("digits only, whole: a sign is allowed, anything around the digits is not", () => {
    expect(decodeReply(bytes("-5"), {})).toEqual({ ok: true, value: "-5" });
    for (const text of ["12 ", " 12", "12abc", "abc12"]) expect(decodeReply(bytes(text), {}).ok).toBe(false);
  });

  test("an unreadable value is an INTERNAL error quoting (at most 80 characters of) what came", () => {
    expect(decodeReply(bytes(`x${"y".repeat(100)}`), {})).toEqual({
      ok: false,
      error: { code: "INTERNAL", message: `unreadable reply from server: ${JSON.stringify(`x${"y".repeat(79)}`)}` },
    });
  });

  test("an error envelope needs a string code and a string message; otherwise the header and the text stand", () => {
    const body = (error: unknown) => JSON.stringify({ error });
    expect(error(body({ code: "X", message: "m" }))).toEqual({ ok: false, error: { code: "X", message: "m" } });
    for (const bad of [null, "text", { code: 1, message: "m" }, { code: "X" }, { message: "m" }, { code: "X", message: 2 }]) {
      expect(error(body(bad), { "x-error-code": "OUT_OF_RANGE" })).toEqual({ ok: false, error: { code: "OUT_OF_RANGE", message: body(bad) } });
    }
    expect(error(JSON.stringify({ code: "X", message: "m" }))).toMatchObject({ error: { code: "INTERNAL" } }); // no envelope
    expect(error("null")).toEqual({ ok: false, error: { code: "INTERNAL", message: "null" } });
  });

  test("without a usable header the code is INTERNAL; an empty body still gets a message; long ones are cut at 200", () => {
    expect(error("", { "x-error-code": 7 })).toEqual({ ok: false, error: { code: "INTERNAL", message: "(no message)" } });
    expect(error("z".repeat(300))).toEqual({ ok: false, error: { code: "INTERNAL", message: "z".repeat(200) } });
  });
});

describe("requestDeadlineMs: only a sure expiry", () => {
  test("a numeric expiration counts too; zero is a deadline, a negative or non-finite one is none", () => {
    expect(requestDeadlineMs(1000, 250)).toBe(1_001_250);
    expect(requestDeadlineMs(1000, "0")).toBe(1_001_000);
    expect(requestDeadlineMs(1000, "-1")).toBeUndefined();
    expect(requestDeadlineMs(1000, Number.POSITIVE_INFINITY)).toBeUndefined();
    expect(requestDeadlineMs(Number.NaN, "500")).toBeUndefined();
    expect(requestDeadlineMs("1000", "500")).toBeUndefined();
  });
});

describe("requestProperties: what every request carries (SPEC §1)", () => {
  const envelope = { correlationId: "c1", replyTo: "amq.rabbitmq.reply-to", nowMs: 1_800_000_000_400, deadlineMs: 1_800_000_002_900 };

  test("reply_to and correlation id, mandatory, text/plain, the remaining wait as expiration, the send second, the app id", () => {
    expect(requestProperties(envelope)).toEqual({
      correlationId: "c1",
      replyTo: "amq.rabbitmq.reply-to",
      mandatory: true,
      contentType: "text/plain",
      expiration: "2500",
      timestamp: 1_800_000_000,
      appId: "fibrpc",
    });
  });

  test("an expiration is never below 1 ms (0 would mean 'only to a consumer waiting right now'), and rounds up", () => {
    expect(requestProperties({ ...envelope, deadlineMs: envelope.nowMs - 50 }).expiration).toBe("1");
    expect(requestProperties({ ...envelope, deadlineMs: envelope.nowMs + 0.2 }).expiration).toBe("1");
    expect(requestProperties({ ...envelope, deadlineMs: envelope.nowMs + 10.2 }).expiration).toBe("11");
  });

  test("trace headers ride along when there are some: traceparent, and tracestate only when given", () => {
    expect(requestProperties(envelope).headers).toBeUndefined();
    const withoutState = requestProperties({ ...envelope, trace: { traceparent: "00-a-b-01" } }).headers;
    expect(withoutState).toEqual({ traceparent: "00-a-b-01" });
    expect(Object.keys(withoutState ?? {})).toEqual(["traceparent"]); // no tracestate key at all, not one set to undefined
    expect(requestProperties({ ...envelope, trace: { traceparent: "00-a-b-01", tracestate: "k=v" } }).headers).toEqual({
      traceparent: "00-a-b-01",
      tracestate: "k=v",
    });
  });
});

describe("buildReply", () => {
  test("a value: its digits as text/plain, the correlation id echoed, no error markers", () => {
    expect(buildReply({ ok: true, value: "832040" }, "abc")).toEqual({
      body: "832040",
      properties: { contentType: "text/plain", appId: "fibrpc", correlationId: "abc" },
    });
  });

  test("an error: the JSON envelope, type error, its code in x-error-code", () => {
    const reply = buildReply({ ok: false, error: { code: "OUT_OF_RANGE", message: "too big" } }, "abc");
    expect(reply.properties).toEqual({
      contentType: "application/json",
      appId: "fibrpc",
      correlationId: "abc",
      type: "error",
      headers: { "x-error-code": "OUT_OF_RANGE" },
    });
    expect(JSON.parse(reply.body)).toEqual({ error: { code: "OUT_OF_RANGE", message: "too big" } });
  });

  test("what it builds, the client reads back as it was meant", () => {
    for (const outcome of [
      { ok: true, value: "55" },
      { ok: false, error: { code: "INVALID_ARGUMENT", message: "x" } },
    ] as const) {
      const reply = buildReply(outcome, "id");
      expect(decodeReply(new TextEncoder().encode(reply.body), reply.properties)).toEqual(outcome);
    }
  });

  test("a request without a correlation id gets a reply without one (nothing invented, no 'undefined')", () => {
    expect("correlationId" in buildReply({ ok: true, value: "1" }, undefined).properties).toBe(false);
    expect("correlationId" in buildReply({ ok: false, error: { code: "INTERNAL", message: "x" } }, 42).properties).toBe(false);
    expect(buildReply({ ok: true, value: "1" }, "").properties.correlationId).toBe("");
  });

  test("extra headers ride on both kinds; the error code header is never overridden by them", () => {
    const trace = { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" };
    expect(buildReply({ ok: true, value: "1" }, "a", trace).properties.headers).toEqual(trace);
    const error = buildReply({ ok: false, error: { code: "INTERNAL", message: "x" } }, "a", { ...trace, "x-error-code": "FAKE" });
    expect(error.properties.headers).toEqual({ ...trace, "x-error-code": "INTERNAL" });
  });
});
