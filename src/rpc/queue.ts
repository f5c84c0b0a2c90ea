import type { Channel, ChannelModel } from "amqplib";
import { inspectQueue } from "./broker.ts";
import { sessionStep } from "./session-errors.ts";

export type QueueKind = "classic" | "quorum";

export { probeIsStream as isStreamQueue } from "./queue-probe.ts";

/** AMQP carries a queue name as a short string: at most 255 bytes. */
const MAX_QUEUE_NAME_BYTES = 255;

/** Why `name` cannot name a queue, or undefined when it can. */
export function queueNameProblem(name: string): string | undefined {
  if (name === "") return "the queue name is empty";
  const bytes = Buffer.byteLength(name, "utf8");
  if (bytes > MAX_QUEUE_NAME_BYTES) return `the queue name is ${bytes} bytes long; AMQP allows at most ${MAX_QUEUE_NAME_BYTES}`;
  return undefined;
}

/**
 * Declare arguments per kind. Both are durable: a quorum queue as current tutorials declare it
 * (it survives a node's death), and a classic one only on request. Never transient and
 * non-exclusive: RabbitMQ 4.3 refuses to declare such a queue (deprecated feature
 * transient_nonexcl_queues), and a transient queue loses its requests with its node anyway.
 */
export function queueDeclaration(kind: QueueKind): { durable: true; exclusive: false; arguments: Record<string, string> } {
  // A classic queue is declared without x-queue-type, as the programs that share it declare it.
  return { durable: true, exclusive: false, arguments: kind === "quorum" ? { "x-queue-type": "quorum" } : {} };
}

/**
 * Uses the queue as it is when it exists, whatever arguments another program declared it
 * with (a re-declare with different ones would fail with 406 PRECONDITION_FAILED), and
 * declares it only when it is missing. Returns true when this call declared it.
 */
export async function adoptOrDeclareQueue(connection: ChannelModel, channel: Channel, queue: string, kind: QueueKind): Promise<boolean> {
  // A passive declare needs no permission; declaring needs configure.
  if ((await sessionStep("looking up the queue", undefined, () => inspectQueue(connection, queue))) !== null) return false;
  await sessionStep("declaring the queue", "configure", () => channel.assertQueue(queue, queueDeclaration(kind)));
  return true;
}
