/** The queues the benchmark measures on, declared before the servers start so that every server adopts the same kind. */
import amqp from "amqplib";
import { BROKER_URL } from "./processes.ts";

export type QueueKind = "classic" | "quorum";

/** Both durable, as fibrpc declares them (RabbitMQ 4.3 refuses transient non-exclusive queues). */
export async function declareQueue(queue: string, kind: QueueKind): Promise<void> {
  const connection = await amqp.connect(BROKER_URL);
  try {
    const channel = await connection.createChannel();
    await channel.assertQueue(queue, { durable: true, arguments: kind === "quorum" ? { "x-queue-type": "quorum" } : {} });
  } finally {
    await connection.close().catch(() => {});
  }
}
