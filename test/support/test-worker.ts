/**
 * Tiny misbehaving workers for tests, written directly on amqplib so that they share no code
 * with fibrpc serve: one that lies, one that is slow, one that stalls, one that answers out of
 * order. Each records the requests it took, so a test can wait for "the request arrived"
 * instead of sleeping.
 */
import amqp, { type ConsumeMessage } from "amqplib";
import { BROKER_URL, eventually } from "./broker.ts";

export interface TestWorkerOptions {
  queue: string;
  /** The broker (default: the tests' shared one). */
  url?: string;
  /** What to answer for the request body n; the default answers correctly for small n only. */
  answer?: (n: string) => string;
  /** Wait this long before answering (a slow worker: the delay is the behaviour, not a synchronisation). */
  delayMs?: number;
  /** Take one request (prefetch 1) and never answer or ack it: the rest pile up as ready. */
  stall?: boolean;
  /**
   * Hold the replies until this many requests have arrived, then answer them last first: a
   * worker whose answers arrive in the reverse of the order the requests were sent.
   */
  reverseBatch?: number;
}

export interface SeenRequest {
  body: string;
  correlationId: unknown;
  replyTo: unknown;
  redelivered: boolean;
}

export interface TestWorker {
  /** The requests taken so far, in arrival order. */
  readonly requests: readonly SeenRequest[];
  /** Resolves true once `count` requests have arrived (false after `timeoutMs`). */
  waitForRequests(count: number, timeoutMs?: number): Promise<boolean>;
  close(): Promise<void>;
}

/** Fibonacci in floating point, the classic bug: wrong from F(79) on (F(90) comes out as 2880067194370816000). */
export function floatFibonacci(n: string): string {
  let [current, next] = [0, 1];
  for (let index = 0; index < Number(n); index++) [current, next] = [next, current + next];
  return BigInt(current).toString();
}

/**
 * F(n) by the plain recurrence on BigInt: slow, obviously right, and independent of src/fib.ts
 * (its fast doubling is what the tests check).
 */
export function referenceFibonacci(n: number): bigint {
  let [current, next] = [0n, 1n];
  for (let index = 0; index < n; index++) [current, next] = [next, current + next];
  return current;
}

export async function startTestWorker(options: TestWorkerOptions): Promise<TestWorker> {
  const connection = await amqp.connect(options.url ?? BROKER_URL);
  connection.on("error", () => {});
  const channel = await connection.createChannel();
  channel.on("error", () => {});
  await channel.assertQueue(options.queue, { durable: false });
  await channel.prefetch(options.reverseBatch ?? 1);
  const answer = options.answer ?? floatFibonacci;
  const requests: SeenRequest[] = [];
  const held: ConsumeMessage[] = [];

  const reply = (message: ConsumeMessage): void => {
    channel.sendToQueue(message.properties.replyTo, Buffer.from(answer(message.content.toString())), {
      correlationId: message.properties.correlationId,
      contentType: "text/plain",
    });
    channel.ack(message);
  };

  await channel.consume(options.queue, (message) => {
    if (message === null) return;
    requests.push({
      body: message.content.toString(),
      correlationId: message.properties.correlationId,
      replyTo: message.properties.replyTo,
      redelivered: message.fields.redelivered,
    });
    if (options.stall) return;
    if (options.reverseBatch !== undefined) {
      held.push(message);
      if (held.length >= options.reverseBatch) for (const each of held.splice(0).reverse()) reply(each);
      return;
    }
    if (options.delayMs) setTimeout(() => reply(message), options.delayMs);
    else reply(message);
  });
  return {
    requests,
    waitForRequests: (count, timeoutMs = 10_000) => eventually(() => requests.length >= count, timeoutMs, 10),
    close: () => connection.close().catch(() => {}),
  };
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
