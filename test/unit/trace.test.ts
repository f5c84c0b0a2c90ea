import { describe, expect, test } from "bun:test";
import { childOf, continueTrace, formatTraceparent, newTraceContext, parseTraceparent, parseTracestate, traceHeaders } from "../../src/trace.ts";

/** The spec's own example. */
const EXAMPLE = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
const counting = (): ((count: number) => Uint8Array) => {
  let next = 1;
  return (count) => Uint8Array.from({ length: count }, () => next++ & 0xff);
};

describe("parseTraceparent", () => {
  test("reads version 00", () => {
    expect(parseTraceparent(EXAMPLE)).toEqual({ traceId: "0af7651916cd43dd8448eb211c80319c", spanId: "b7ad6b7169203331", flags: 1 });
    expect(parseTraceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00")?.flags).toBe(0);
    expect(parseTraceparent(Buffer.from(EXAMPLE))?.spanId).toBe("b7ad6b7169203331"); // a byte-array header
  });

  test("a later version is read as far as version 00 goes, extra fields ignored", () => {
    expect(parseTraceparent("01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-whatever")?.traceId).toBe("0af7651916cd43dd8448eb211c80319c");
    expect(parseTraceparent("cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")?.traceId).toBe("0af7651916cd43dd8448eb211c80319c");
  });

  test.each([
    ["upper-case hex", "00-0AF7651916CD43DD8448EB211C80319C-B7AD6B7169203331-01"],
    ["version ff", "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"],
    ["all-zero trace id", "00-00000000000000000000000000000000-b7ad6b7169203331-01"],
    ["all-zero parent id", "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01"],
    ["version 00 with more after the flags", `${EXAMPLE}-extra`],
    ["a short trace id", "00-0af7651916cd43dd8448eb211c8031-b7ad6b7169203331-01"],
    ["a later version too short", "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0"],
    ["a later version with no dash before its extra", "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01extra"],
    ["not hex", "00-0af7651916cd43dd8448eb211c80319g-b7ad6b7169203331-01"],
    ["wrong separators", "00_0af7651916cd43dd8448eb211c80319c_b7ad6b7169203331_01"],
    ["empty", ""],
    ["a number", 42],
    ["absent", undefined],
  ])("%s is not a traceparent", (_label, header) => {
    expect(parseTraceparent(header)).toBeUndefined();
  });
});

describe("parseTracestate", () => {
  test("valid lists come back trimmed, empty members dropped", () => {
    expect(parseTracestate("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE")).toBe("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
    expect(parseTracestate(" rojo=1 ,, tenant@vendor=a b ")).toBe("rojo=1,tenant@vendor=a b");
  });

  test.each([
    ["a key with upper case", "Rojo=1"],
    ["a member without '='", "rojo"],
    ["an empty value", "rojo="],
    ["an '=' in the value", "rojo=a=b"],
    ["a value over 256 characters", `rojo=${"v".repeat(257)}`],
    ["a control character", "rojo=a\u0001b"],
    ["a key twice", "rojo=1,rojo=2"],
    ["33 members", Array.from({ length: 33 }, (_, index) => `k${index}=v`).join(",")],
    ["nothing", " , "],
  ])("%s is dropped whole", (_label, header) => {
    expect(parseTracestate(header)).toBeUndefined();
  });
});

describe("contexts", () => {
  test("formatTraceparent writes version 00, flags in two hex digits", () => {
    expect(formatTraceparent({ traceId: "0af7651916cd43dd8448eb211c80319c", spanId: "b7ad6b7169203331", flags: 1 })).toBe(EXAMPLE);
    expect(formatTraceparent({ traceId: "0af7651916cd43dd8448eb211c80319c", spanId: "b7ad6b7169203331", flags: 0x0a })).toEndWith("-0a");
  });

  test("a new trace: random ids of the right length, sampled, readable back", () => {
    const context = newTraceContext(counting());
    expect(context).toEqual({ traceId: "0102030405060708090a0b0c0d0e0f10", spanId: "1112131415161718", flags: 1 });
    expect(parseTraceparent(formatTraceparent(context))).toEqual(context);
    const fromCrypto = newTraceContext();
    expect(fromCrypto.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(fromCrypto.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(newTraceContext().traceId).not.toBe(fromCrypto.traceId);
  });

  test("random bytes that come out all zero are drawn again", () => {
    let calls = 0;
    const zeroFirst = (count: number) => (calls++ === 0 ? new Uint8Array(count) : new Uint8Array(count).fill(7));
    expect(newTraceContext(zeroFirst).traceId).toBe("07".repeat(16));
  });

  test("childOf keeps the trace and its flags, makes a span of its own, passes tracestate on", () => {
    const parent = parseTraceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00");
    const child = childOf(parent, "rojo=1", counting());
    expect(child).toEqual({ traceId: "0af7651916cd43dd8448eb211c80319c", spanId: "0102030405060708", flags: 0, tracestate: "rojo=1" });
    expect(traceHeaders(child)).toEqual({ traceparent: "00-0af7651916cd43dd8448eb211c80319c-0102030405060708-00", tracestate: "rojo=1" });
  });

  test("continueTrace: a malformed or missing parent starts a new trace, and its tracestate is not passed on", () => {
    const continued = continueTrace({ traceparent: EXAMPLE, tracestate: "rojo=1" }, counting());
    expect(continued).toMatchObject({ traceId: "0af7651916cd43dd8448eb211c80319c", tracestate: "rojo=1" });
    const fresh = continueTrace({ traceparent: "00-garbage", tracestate: "rojo=1" }, counting());
    expect(fresh.traceId).toBe("0102030405060708090a0b0c0d0e0f10");
    expect(fresh.tracestate).toBeUndefined();
    expect(traceHeaders(continueTrace(undefined, counting()))).toEqual({ traceparent: "00-0102030405060708090a0b0c0d0e0f10-1112131415161718-01" });
    expect(continueTrace({ traceparent: EXAMPLE, tracestate: "Bad=1" }, counting()).tracestate).toBeUndefined();
  });
});
