/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/) for requests that cross the queue:
 * read and check a `traceparent` and its `tracestate`, write them, start a trace, continue one
 * with a span of our own. Pure: randomness is a parameter. Nothing is recorded or sent anywhere.
 */

/** A position in a trace: the trace, the span that is the parent of whatever comes next, its flags. */
export interface TraceContext {
  /** 32 lowercase hex digits, not all zero. */
  traceId: string;
  /** 16 lowercase hex digits, not all zero: in a traceparent header, the parent-id. */
  spanId: string;
  /** trace-flags, 0-255 (bit 0: sampled). */
  flags: number;
  /** The vendors' tracestate, passed on unchanged when it was valid. */
  tracestate?: string;
}

/** Random bytes: crypto's by default, a fixed source in tests. */
export type RandomBytes = (count: number) => Uint8Array;

const SAMPLED = 0x01;
const ALL_ZERO_TRACE = "0".repeat(32);
const ALL_ZERO_SPAN = "0".repeat(16);
/** version 00: exactly this; a later version: at least this, then "-" and whatever it added. */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const MAX_TRACESTATE_MEMBERS = 32;
const TRACESTATE_KEY = /^(?:[a-z][a-z0-9_\-*/]{0,255}|[a-z0-9][a-z0-9_\-*/]{0,240}@[a-z][a-z0-9_\-*/]{0,13})$/;
/** Printable ASCII but ',' and '=', at most 256 characters, not ending in a space. */
const TRACESTATE_VALUE = /^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;

/**
 * Reads a traceparent header. Undefined when it is not one: wrong shape, upper-case hex,
 * version ff, an all-zero trace or parent id, or version 00 with anything after the flags.
 */
export function parseTraceparent(header: unknown): Omit<TraceContext, "tracestate"> | undefined {
  const text = headerText(header)?.trim();
  if (text === undefined) return undefined;
  const match = TRACEPARENT.exec(text);
  if (match === null) return undefined;
  const [, version, traceId, spanId, flags, rest] = match;
  if (version === undefined || traceId === undefined || spanId === undefined || flags === undefined) return undefined;
  if (version === "ff" || (version === "00" && rest !== undefined)) return undefined;
  if (traceId === ALL_ZERO_TRACE || spanId === ALL_ZERO_SPAN) return undefined;
  return { traceId, spanId, flags: Number.parseInt(flags, 16) };
}

/**
 * Checks a tracestate header: up to 32 `key=value` members separated by commas (empty
 * members allowed), no key twice. Returns it trimmed, or undefined when any part is invalid
 * (the spec says to drop the whole header then).
 */
export function parseTracestate(header: unknown): string | undefined {
  const text = headerText(header);
  if (text === undefined) return undefined;
  const members = text
    .split(",")
    .map((member) => member.trim())
    .filter((member) => member !== "");
  if (members.length === 0 || members.length > MAX_TRACESTATE_MEMBERS) return undefined;
  const keys = new Set<string>();
  for (const member of members) {
    const equals = member.indexOf("=");
    const key = member.slice(0, equals);
    if (equals <= 0 || !TRACESTATE_KEY.test(key) || !TRACESTATE_VALUE.test(member.slice(equals + 1)) || keys.has(key)) return undefined;
    keys.add(key);
  }
  return members.join(",");
}

/** Every byte in two lowercase hex digits: ids and flags are written at every request. */
const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, "0"));

/** The traceparent header of a context, always in version 00. */
export function formatTraceparent(context: Pick<TraceContext, "traceId" | "spanId" | "flags">): string {
  return `00-${context.traceId}-${context.spanId}-${HEX[context.flags & 0xff] ?? "00"}`;
}

/** A new trace, with its first span (sampled: the caller may record it). */
export function newTraceContext(random: RandomBytes = cryptoRandomBytes): TraceContext {
  return { traceId: randomId(16, random), spanId: randomId(8, random), flags: SAMPLED };
}

/**
 * A span of our own in the caller's trace: same trace id and flags, a new span id, the
 * tracestate passed on. Without a (valid) parent, a new trace: never an error.
 */
export function childOf(parent: Omit<TraceContext, "tracestate"> | undefined, tracestate?: string, random: RandomBytes = cryptoRandomBytes): TraceContext {
  if (parent === undefined) return newTraceContext(random);
  const child = { traceId: parent.traceId, spanId: randomId(8, random), flags: parent.flags };
  return tracestate === undefined ? child : { ...child, tracestate };
}

/** The context read from a message's `traceparent` and `tracestate` headers, continued by a span of ours. */
export function continueTrace(headers: Readonly<Record<string, unknown>> | undefined, random: RandomBytes = cryptoRandomBytes): TraceContext {
  const parent = parseTraceparent(headers?.traceparent);
  return childOf(parent, parent === undefined ? undefined : parseTracestate(headers?.tracestate), random);
}

/** The headers that carry a context to the next hop. */
export function traceHeaders(context: TraceContext): Record<string, string> {
  const traceparent = formatTraceparent(context);
  return context.tracestate === undefined ? { traceparent } : { traceparent, tracestate: context.tracestate };
}

/** AMQP header values arrive as strings, or as bytes when the sender wrote a byte array. */
function headerText(header: unknown): string | undefined {
  if (typeof header === "string") return header;
  if (header instanceof Uint8Array) return Buffer.from(header).toString("latin1");
  return undefined;
}

/** A random id of `bytes` bytes in lowercase hex, never all zero (the spec forbids it). */
function randomId(bytes: number, random: RandomBytes): string {
  for (;;) {
    const drawn = random(bytes);
    let id = "";
    let any = 0;
    for (const byte of drawn) {
      id += HEX[byte];
      any |= byte;
    }
    if (any !== 0) return id;
  }
}

/** One getRandomValues call per 4 KiB of ids instead of one per request. */
const pool = new Uint8Array(4096);
let poolOffset = pool.length;

function cryptoRandomBytes(count: number): Uint8Array {
  if (poolOffset + count > pool.length) {
    crypto.getRandomValues(pool);
    poolOffset = 0;
  }
  const bytes = pool.subarray(poolOffset, poolOffset + count);
  poolOffset += count;
  return bytes;
}
