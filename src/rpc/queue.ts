import type { Channel, ChannelModel } from "amqplib";
import { inspectQueue } from "./broker.ts";

export type QueueKind = "classic" | "quorum";

/** Declare arguments per kind: a classic queue as the seed declares it, a quorum queue as current tutorials do. */
export function queueDeclaration(kind: QueueKind): { durable: boolean; arguments: Record<string, string> } {
  return kind === "quorum"
    ? { durable: true, arguments: { "x-queue-type": "quorum" } }
    : { durable: false, arguments: {} };
}

/**
 * Uses the queue as it is when it exists, whatever arguments another program declared it
 * with (a re-declare with different ones would fail with 406 PRECONDITION_FAILED), and
 * declares it only when it is missing. Returns true when this call declared it.
 */
export async function adoptOrDeclareQueue(
  connection: ChannelModel,
  channel: Channel,
  queue: string,
  kind: QueueKind,
): Promise<boolean> {
  if ((await inspectQueue(connection, queue)) !== null) return false;
  await channel.assertQueue(queue, queueDeclaration(kind));
  return true;
}
