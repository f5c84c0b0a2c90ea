import type { ChannelModel, Options } from "amqplib";
import { parseInequivalentArgument, reportedQueueType, type ArgumentValue } from "./queue-arguments.ts";

/**
 * An argument value no queue may be declared with (x-single-active-consumer takes a boolean):
 * a probe that carries it can never create the queue it asks about, even if that queue was
 * deleted a moment before; against an existing queue it is just one more difference.
 */
const UNDECLARABLE = { "x-single-active-consumer": "fibrpc-probe" } as const;

/** Enough rounds for every argument RabbitMQ knows, with room to spare. */
const MAX_ROUNDS = 32;

/** A queue as a probe learned it: its flags and every argument the broker compares. */
export interface QueueShape {
  durable: boolean;
  autoDelete: boolean;
  arguments: Record<string, ArgumentValue>;
}

type DeclareResult = { ok: true } | { ok: false; code: number | undefined; message: string };

/** One non-passive declare on a channel of its own (a refusal closes it). */
async function declareOnScratchChannel(connection: ChannelModel, queue: string, options: Options.AssertQueue): Promise<DeclareResult> {
  const channel = await connection.createChannel();
  channel.on("error", () => {}); // the refusal is read from the rejection below
  try {
    await channel.assertQueue(queue, options);
    void channel.close().catch(() => {});
    return { ok: true };
  } catch (error) {
    const code = typeof error === "object" && error !== null && "code" in error && typeof error.code === "number" ? error.code : undefined;
    return { ok: false, code, message: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Whether an existing queue is a stream, as RabbitMQ 3.10 tells it: a declare that asks for a
 * quorum queue is refused with "current is 'stream'". Undefined when it cannot tell (the user
 * may not configure the queue, or it does not exist). The probe can create nothing.
 */
export async function probeIsStream(connection: ChannelModel, queue: string): Promise<boolean | undefined> {
  const result = await declareOnScratchChannel(connection, queue, {
    durable: true,
    arguments: { "x-queue-type": "quorum", ...UNDECLARABLE },
  });
  if (result.ok || result.code !== 406 || !/inequivalent arg/.test(result.message)) return undefined;
  return reportedQueueType(result.message) === "stream";
}

/**
 * Learns an existing queue's flags and arguments, one 406 at a time: each refused declare
 * names one difference, which the next declare adopts, until the broker finds the declare
 * equivalent. The first rounds carry an undeclarable argument, so nothing can be created; the
 * last rounds cannot, and a queue deleted in those milliseconds would be declared again with
 * what was learned of it. Undefined when the broker answers anything else (no configure
 * permission: 403; the queue gone), or with a value that cannot be sent back as it was.
 */
export async function probeQueueShape(connection: ChannelModel, queue: string, start: QueueShape): Promise<QueueShape | undefined> {
  const shape: QueueShape = { durable: start.durable, autoDelete: start.autoDelete, arguments: { ...start.arguments } };
  let guarded = true;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const args = guarded ? { ...shape.arguments, ...UNDECLARABLE } : shape.arguments;
    const result = await declareOnScratchChannel(connection, queue, { durable: shape.durable, autoDelete: shape.autoDelete, arguments: args });
    if (result.ok) return shape;
    const difference = result.code === 406 ? parseInequivalentArgument(result.message) : undefined;
    if (difference === undefined) return undefined;
    const { name, current } = difference;
    if (name === "durable" || name === "auto_delete") {
      if (typeof current !== "boolean") return undefined;
      if (name === "durable") shape.durable = current;
      else shape.autoDelete = current;
      continue;
    }
    if (guarded && name in UNDECLARABLE) guarded = false; // every other difference found so far
    if (current === undefined) delete shape.arguments[name];
    else shape.arguments[name] = current;
  }
  return undefined;
}
