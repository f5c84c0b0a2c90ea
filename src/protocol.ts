/**
 * The wire contract (SPEC §1), free of I/O: what a request body may be, what a request and a
 * reply carry, and how to read a reply back. Shared by the worker and the client.
 */
import type { Options } from "amqplib";

export const DEFAULT_QUEUE = "rpc_queue";
export const APP_ID = "fibrpc";

/** RabbitMQ's direct reply-to pseudo-queue: no reply queue to declare, replies need no ack. */
export const DIRECT_REPLY_TO = "amq.rabbitmq.reply-to";
export const TEXT_PLAIN = "text/plain";
export const APPLICATION_JSON = "application/json";
export const ERROR_TYPE = "error";
export const ERROR_CODE_HEADER = "x-error-code";

/** Longer bodies are rejected before any parsing: no n a worker would compute needs more digits. */
export const MAX_REQUEST_BYTES = 32;

export type ErrorCode = "INVALID_ARGUMENT" | "OUT_OF_RANGE" | "INTERNAL";

export interface ErrorBody {
  /** An ErrorCode when fibrpc sent it; another program's worker may send any code. */
  code: string;
  message: string;
}

export type RequestParse = { ok: true; n: number } | { ok: false; error: ErrorBody };

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Validates the text of one n (a request body or a command-line argument) against `maxN`. */
export function parseN(text: string, maxN: number): RequestParse {
  if (text.length === 0) return invalid("empty request: expected a non-negative decimal integer");
  if (text.length > MAX_REQUEST_BYTES) {
    return invalid(`request too long (${text.length} characters): expected a non-negative decimal integer`);
  }
  if (!/^[0-9]+$/.test(text)) {
    return invalid(`not a non-negative decimal integer: ${JSON.stringify(text)}`);
  }
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n > maxN) {
    return { ok: false, error: { code: "OUT_OF_RANGE", message: `n=${text} is above this server's maximum of ${maxN}` } };
  }
  return { ok: true, n };
}

/** Validates a raw request body: bytes first (length, UTF-8), then the text. */
export function parseRequestBody(body: Uint8Array, maxN: number): RequestParse {
  if (body.length > MAX_REQUEST_BYTES) {
    return invalid(`request too long (${body.length} bytes): expected a non-negative decimal integer`);
  }
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    return invalid("request body is not valid UTF-8");
  }
  return parseN(text, maxN);
}

function invalid(message: string): RequestParse {
  return { ok: false, error: { code: "INVALID_ARGUMENT", message } };
}

export function encodeErrorBody(error: ErrorBody): string {
  return JSON.stringify({ error: { code: error.code, message: error.message } });
}

/** What the worker publishes for one request: the body and every property, success or error. */
export interface ReplyMessage {
  body: string;
  properties: ReplyMessageProperties;
}

export interface ReplyMessageProperties {
  contentType: string;
  appId: string;
  correlationId?: string;
  type?: string;
  headers?: Record<string, string>;
}

/**
 * The one place a reply is built (SPEC §1): a value as decimal text, or an error as the JSON
 * envelope with `type: "error"` and its code in a header. The request's correlation id is
 * echoed when it has one; `headers` (trace context) ride along on both kinds.
 */
export function buildReply(outcome: Reply, correlationId: unknown, headers: Readonly<Record<string, string>> = {}): ReplyMessage {
  const echoed = typeof correlationId === "string" ? { correlationId } : {};
  if (outcome.ok) {
    const extra = Object.keys(headers).length > 0 ? { headers: { ...headers } } : {};
    return { body: outcome.value, properties: { contentType: TEXT_PLAIN, appId: APP_ID, ...echoed, ...extra } };
  }
  return {
    body: encodeErrorBody(outcome.error),
    properties: {
      contentType: APPLICATION_JSON,
      appId: APP_ID,
      ...echoed,
      type: ERROR_TYPE,
      headers: { ...headers, [ERROR_CODE_HEADER]: outcome.error.code },
    },
  };
}

/** What a reply means, whoever sent it (fibrpc or a tutorial server that only sends digits). */
export type Reply = { ok: true; value: string } | { ok: false; error: ErrorBody };

export interface ReplyProperties {
  type?: string | undefined;
  contentType?: string | undefined;
  headers?: Record<string, unknown> | undefined;
}

export function decodeReply(body: Uint8Array, properties: ReplyProperties): Reply {
  const text = new TextDecoder().decode(body);
  if (properties.type === ERROR_TYPE) return { ok: false, error: decodeErrorBody(text, properties.headers) };
  if (/^-?[0-9]+$/.test(text)) return { ok: true, value: text };
  return {
    ok: false,
    error: { code: "INTERNAL", message: `unreadable reply from server: ${JSON.stringify(text.slice(0, 80))}` },
  };
}

function decodeErrorBody(text: string, headers: Record<string, unknown> | undefined): ErrorBody {
  const headerCode = typeof headers?.[ERROR_CODE_HEADER] === "string" ? headers[ERROR_CODE_HEADER] : undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (isErrorEnvelope(parsed)) return parsed.error;
  } catch {
    // fall through: an error reply we cannot parse still is an error
  }
  return { code: headerCode ?? "INTERNAL", message: text.slice(0, 200) || "(no message)" };
}

function isErrorEnvelope(value: unknown): value is { error: ErrorBody } {
  if (typeof value !== "object" || value === null || !("error" in value)) return false;
  const error: unknown = value.error;
  return (
    typeof error === "object" && error !== null && "code" in error && typeof error.code === "string" && "message" in error && typeof error.message === "string"
  );
}

/** W3C Trace Context headers a request carries (the worker echoes them with its own span id). */
export interface TraceHeaders {
  traceparent: string;
  tracestate?: string | undefined;
}

/** What amqplib publishes, with the two properties every request has spelled out. */
export type RequestProperties = Options.Publish & { correlationId: string; replyTo: string };

export interface RequestEnvelope {
  correlationId: string;
  replyTo: string;
  /** When the request is sent and when its caller stops waiting, epoch ms. */
  nowMs: number;
  deadlineMs: number;
  trace?: TraceHeaders | undefined;
}

/**
 * The properties of every request fibrpc sends (SPEC §1): besides what the tutorials set
 * (reply_to, correlation_id), a content type, the caller's remaining wait as `expiration` (a
 * request nobody took in time dies in the queue instead of being computed for nobody), the
 * send time, the app id, and `mandatory`, so an unroutable request comes back at once instead
 * of vanishing.
 */
export function requestProperties(envelope: RequestEnvelope): RequestProperties {
  const properties: RequestProperties = {
    correlationId: envelope.correlationId,
    replyTo: envelope.replyTo,
    mandatory: true,
    contentType: TEXT_PLAIN,
    // At least 1: a zero expiration means "deliver only to a consumer waiting right now".
    expiration: String(Math.max(1, Math.ceil(envelope.deadlineMs - envelope.nowMs))),
    timestamp: Math.floor(envelope.nowMs / 1000),
    appId: APP_ID,
  };
  if (envelope.trace !== undefined) {
    const { traceparent, tracestate } = envelope.trace;
    properties.headers = tracestate === undefined ? { traceparent } : { traceparent, tracestate };
  }
  return properties;
}

/**
 * A request's deadline in epoch ms, from AMQP `timestamp` (seconds) and `expiration` (ms).
 * The timestamp is truncated to whole seconds by the sender, so one second is added:
 * a request is only dropped when it has surely expired.
 */
export function requestDeadlineMs(timestampSeconds: unknown, expiration: unknown): number | undefined {
  if (typeof timestampSeconds !== "number" || !Number.isFinite(timestampSeconds)) return undefined;
  const ttl = typeof expiration === "string" ? Number(expiration) : expiration;
  if (typeof ttl !== "number" || !Number.isFinite(ttl) || ttl < 0) return undefined;
  return (timestampSeconds + 1) * 1000 + ttl;
}
