/**
 * Tiny misbehaving workers for health-check tests, written directly on amqplib so that they
 * share no code with fibrpc serve: one that lies, one that is slow, one that stalls.
 */
import amqp from "amqplib";
import { BROKER_URL } from "./broker.ts";

export interface TestWorkerOptions {
  queue: string;
  /** What to answer for the request body n; the default answers correctly for small n only. */
  answer?: (n: string) => string;
  /** Wait this long before answering (a slow worker). */
  delayMs?: number;
  /** Take one request (prefetch 1) and never answer or ack it: the rest pile up as ready. */
  stall?: boolean;
}

export interface TestWorker {
  close(): Promise<void>;
}

/** Fibonacci in floating point, the classic bug: wrong from F(79) on (F(90) comes out as 2880067194370816000). */
export function floatFibonacci(n: string): string {
  let [current, next] = [0, 1];
  for (let index = 0; index < Number(n); index++) [current, next] = [next, current + next];
  return BigInt(current).toString();
}

export async function startTestWorker(options: TestWorkerOptions): Promise<TestWorker> {
  const connection = await amqp.connect(BROKER_URL);
  connection.on("error", () => {});
  const channel = await connection.createChannel();
  channel.on("error", () => {});
  await channel.assertQueue(options.queue, { durable: false });
  await channel.prefetch(1);
  const answer = options.answer ?? floatFibonacci;
  await channel.consume(options.queue, (message) => {
    if (message === null || options.stall) return;
    const reply = (): void => {
      channel.sendToQueue(message.properties.replyTo, Buffer.from(answer(message.content.toString())), {
        correlationId: message.properties.correlationId,
        contentType: "text/plain",
      });
      channel.ack(message);
    };
    if (options.delayMs) setTimeout(reply, options.delayMs);
    else reply();
  });
  return { close: () => connection.close().catch(() => {}) };
}

/** Publishes `count` requests nobody will answer (no reply_to), confirmed by the broker. */
export async function fillQueue(queue: string, count: number): Promise<void> {
  const connection = await amqp.connect(BROKER_URL);
  try {
    const channel = await connection.createConfirmChannel();
    for (let index = 0; index < count; index++) channel.sendToQueue(queue, Buffer.from("1"));
    await channel.waitForConfirms();
  } finally {
    await connection.close().catch(() => {});
  }
}
