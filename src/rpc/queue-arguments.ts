/**
 * What a queue's arguments say, learned the only way AMQP 0-9-1 allows: from the text of the
 * 406 PRECONDITION_FAILED a declare with different arguments draws. Pure.
 */

export type ArgumentValue = string | number | boolean;

/** One difference the broker reported: the argument, and its current value (undefined: not set). */
export interface ReportedDifference {
  name: string;
  current: ArgumentValue | undefined;
}

const INTEGER_TYPES = new Set(["byte", "short", "signedint", "long", "unsignedbyte", "unsignedshort", "unsignedint"]);

/**
 * Reads RabbitMQ's "inequivalent arg" message, in its three shapes:
 * `… received none but current is the value '5000' of type 'short'`,
 * `… received 'quorum' but current is 'stream'` (a field: durable, auto_delete, the queue type),
 * `… received the value 'x' of type 'longstr' but current is none`.
 * Undefined for any other text, or a value of a type fibrpc cannot send back as it was.
 */
export function parseInequivalentArgument(message: string): ReportedDifference | undefined {
  const match = /inequivalent arg '([^']+)' for queue .* but current is (none|the value '(.*)' of type '([^']+)'|'(.*)')"?\s*$/s.exec(message);
  if (match === null) return undefined;
  const [, name, whole, typedValue, type, fieldValue] = match;
  if (name === undefined) return undefined;
  if (whole === "none") return { name, current: undefined };
  if (fieldValue !== undefined) return { name, current: fieldValue === "true" ? true : fieldValue === "false" ? false : fieldValue };
  if (typedValue === undefined || type === undefined) return undefined;
  if (INTEGER_TYPES.has(type) && /^-?\d+$/.test(typedValue)) return { name, current: Number(typedValue) };
  if (type === "bool" && (typedValue === "true" || typedValue === "false")) return { name, current: typedValue === "true" };
  if (type === "longstr" || type === "shortstr") return { name, current: typedValue };
  return undefined;
}

/** The queue type a declare was refused over, when the broker said so (e.g. "stream"). */
export function reportedQueueType(message: string): string | undefined {
  const difference = parseInequivalentArgument(message);
  return difference?.name === "x-queue-type" && typeof difference.current === "string" ? difference.current : undefined;
}

/**
 * The arguments that can drop or refuse requests, in words, for a start-up warning; empty
 * when there are none. (Limits set by a policy are not queue arguments and are not seen here.)
 */
export function describeRequestLimits(args: Readonly<Record<string, ArgumentValue>>): string[] {
  const limits: string[] = [];
  const overflow = typeof args["x-overflow"] === "string" ? args["x-overflow"] : "drop-head";
  const whenFull = overflow.startsWith("reject-publish") ? "new requests are refused when it is full" : "the oldest requests are dropped when it is full";
  if (args["x-max-length"] !== undefined) limits.push(`at most ${args["x-max-length"]} requests (x-max-length; ${whenFull}, x-overflow ${overflow})`);
  if (args["x-max-length-bytes"] !== undefined) limits.push(`at most ${args["x-max-length-bytes"]} bytes of requests (x-max-length-bytes; ${whenFull})`);
  if (args["x-message-ttl"] !== undefined) limits.push(`requests not taken within ${args["x-message-ttl"]} ms are dropped (x-message-ttl)`);
  if (args["x-delivery-limit"] !== undefined) limits.push(`a request delivered more than ${args["x-delivery-limit"]} times is dropped (x-delivery-limit)`);
  if (args["x-expires"] !== undefined) limits.push(`the queue and its requests are deleted after ${args["x-expires"]} ms without a consumer (x-expires)`);
  return limits;
}

/** Why no fibrpc worker serves a stream (each consumer reads every message; none is taken away): for serve, call and health alike. */
export function streamRefusalMessage(queue: string): string {
  return `queue '${queue}' is a stream (x-queue-type: stream): fibrpc serves only classic or quorum queues, from which each request is taken once`;
}
