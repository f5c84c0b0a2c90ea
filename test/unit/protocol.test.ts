import { describe, expect, test } from "bun:test";
import { buildReply, decodeReply, encodeErrorBody, parseRequestBody, requestDeadlineMs } from "../../src/protocol.ts";

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

  test.each(["", "-1", "3.5", "1e3", "0x10", " 30", "30 ", "3 0", "+5", "٣", "thirty", "30\n"])(
    "rejects %p as INVALID_ARGUMENT",
    (text) => {
      expect(codeOf(bytes(text))).toBe("INVALID_ARGUMENT");
    },
  );

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
    for (const outcome of [{ ok: true, value: "55" }, { ok: false, error: { code: "INVALID_ARGUMENT", message: "x" } }] as const) {
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
