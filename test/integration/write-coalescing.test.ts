/**
 * The write-coalescing patch reaches into amqplib's internals (its socket), so it is tested on a
 * real connection to the real broker: a change in amqplib that moves the socket fails here.
 */
import "../support/preflight.ts";
import { expect, test } from "bun:test";
import amqp from "amqplib";
import { BROKER_URL, deleteQueue, queueState, uniqueQueue } from "../support/broker.ts";
import { coalesceWrites } from "../../src/rpc/write-coalescing.ts";

test("on a real amqplib connection, 200 publishes of one turn reach the socket in a handful of writes, and all arrive", async () => {
  const queue = uniqueQueue("coalesce");
  const connection = await amqp.connect(BROKER_URL);
  try {
    const channel = await connection.createConfirmChannel();
    await channel.assertQueue(queue, { durable: true });
    // Count what reaches the socket: wrap its write before the patch wraps it in turn.
    const socket = (connection as unknown as { connection: { stream: { write: (...args: unknown[]) => boolean } } }).connection.stream;
    const realWrite = socket.write.bind(socket);
    let writes = 0;
    socket.write = (...args: unknown[]) => {
      writes++;
      return realWrite(...args);
    };
    expect(coalesceWrites(connection)).toBe(true);
    for (let index = 0; index < 200; index++) channel.sendToQueue(queue, Buffer.from(String(index)));
    await channel.waitForConfirms();
    expect(writes).toBeLessThanOrEqual(5); // unpatched: one write per publish, 200
    expect((await queueState(queue))?.messageCount).toBe(200);
  } finally {
    await connection.close().catch(() => {});
    await deleteQueue(queue);
  }
});
