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

/**
 * The options of one probe declare. A transient queue is only ever probed with the undeclarable
 * argument: a probe must not be able to create a queue that is neither durable nor exclusive
 * (RabbitMQ 4.3 refuses to, and such a queue loses its requests with its node).
 */
export function probeDeclaration(shape: QueueShape, guarded: boolean): Options.AssertQueue {
  const args = guarded || !shape.durable ? { ...shape.arguments, ...UNDECLARABLE } : shape.arguments;
  return { durable: shape.durable, autoDelete: shape.autoDelete, exclusive: false, arguments: args };
}

/** One non-passive declare on a channel of its own (a refusal closes it). */
async function declareOnScratchChannel(connection: ChannelModel, queue: string, shape: QueueShape, guarded: boolean): Promise<DeclareResult> {
  const channel = await connection.createChannel();
  channel.on("error", () => {}); // the refusal is read from the rejection below
  try {
    await channel.assertQueue(queue, probeDeclaration(shape, guarded));
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
  const result = await declareOnScratchChannel(connection, queue, { durable: true, autoDelete: false, arguments: { "x-queue-type": "quorum" } }, true);
  if (result.ok || result.code !== 406 || !/inequivalent arg/.test(result.message)) return undefined;
  return reportedQueueType(result.message) === "stream";
}

/**
 * Learns an existing queue's flags and arguments, one 406 at a time: each refused declare
 * names one difference, which the next declare adopts, until the broker finds the declare
 * equivalent. The first rounds carry an undeclarable argument, so nothing can be created; the
 * last rounds cannot, and a queue deleted in those milliseconds would be declared again with
 * what was learned of it (a transient queue is not probed that far: for one, what the broker
 * compares after x-single-active-consumer, the queue type among it, may be missing or wrong,
 * the limits learned so far are right). Undefined when the broker
 * answers anything else (no configure permission: 403; the queue gone), or with a value that
 * cannot be sent back as it was.
 */
export async function probeQueueShape(connection: ChannelModel, queue: string, start: QueueShape): Promise<QueueShape | undefined> {
  const shape: QueueShape = { durable: start.durable, autoDelete: start.autoDelete, arguments: { ...start.arguments } };
  let guarded = true;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const result = await declareOnScratchChannel(connection, queue, shape, guarded);
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
    const markerReported = guarded && name in UNDECLARABLE;
    if (current === undefined) delete shape.arguments[name];
    else shape.arguments[name] = current;
    if (markerReported) {
      // Every difference the broker compares before this one is known. A transient queue is
      // left at that: the rounds after this one could create it if it were deleted meanwhile.
      if (!shape.durable) return shape;
      guarded = false;
    }
  }
  return undefined;
}
