import amqp, { type Channel, type ChannelModel, type Options } from "amqplib";

/** The broker the tests use: AMQP_URL, else the local default. */
export const BROKER_URL = process.env.AMQP_URL || "amqp://guest:guest@127.0.0.1:5672";

/** A queue name no other test (or earlier run) uses, so tests never see each other's messages. */
export function uniqueQueue(label: string): string {
  return `fibrpc-test-${label}-${process.pid}-${crypto.randomUUID().slice(0, 8)}`;
}

/** Runs `use` with a fresh connection and channel, closing both afterwards. */
export async function withChannel<T>(use: (channel: Channel, connection: ChannelModel) => Promise<T>): Promise<T> {
  const connection = await amqp.connect(BROKER_URL);
  connection.on("error", () => {});
  try {
    const channel = await connection.createChannel();
    channel.on("error", () => {});
    return await use(channel, connection);
  } finally {
    await connection.close().catch(() => {});
  }
}

/** Publishes one message to `queue` and waits for the broker's confirm, so it is there before the test goes on. */
export async function publishConfirmed(queue: string, body: string, properties: Options.Publish = {}): Promise<void> {
  const connection = await amqp.connect(BROKER_URL);
  try {
    const channel = await connection.createConfirmChannel();
    channel.sendToQueue(queue, Buffer.from(body), properties);
    await channel.waitForConfirms();
  } finally {
    await connection.close().catch(() => {});
  }
}

export async function deleteQueue(queue: string): Promise<void> {
  await withChannel((channel) => channel.deleteQueue(queue)).catch(() => {});
}

export async function queueState(queue: string): Promise<{ messageCount: number; consumerCount: number } | null> {
  try {
    return await withChannel((channel) => channel.checkQueue(queue));
  } catch {
    return null;
  }
}

/** Declares a queue the way another program would: the seed's classic queue or the tutorials' quorum queue. */
export async function declareQueue(queue: string, kind: "classic" | "quorum"): Promise<void> {
  await withChannel((channel) =>
    channel.assertQueue(queue, kind === "quorum" ? { durable: true, arguments: { "x-queue-type": "quorum" } } : { durable: false }),
  );
}

/** Polls `check` until it returns true or `timeoutMs` passes; returns whether it did. */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 10_000, everyMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await Bun.sleep(everyMs);
  }
  return check();
}
