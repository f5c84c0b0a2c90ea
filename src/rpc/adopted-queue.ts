import type { ChannelModel } from "amqplib";
import { inspectQueue } from "./broker.ts";
import { describeRequestLimits, streamRefusalMessage } from "./queue-arguments.ts";
import { probeIsStream, probeQueueShape } from "./queue-probe.ts";
import { queueDeclaration, type QueueKind } from "./queue.ts";
import { UnservableQueueError } from "./session-errors.ts";
import type { WorkerLog } from "./worker-log.ts";

/** Why no fibrpc worker serves a stream, for serve, call and health alike. */
export function streamRefusal(queue: string): UnservableQueueError {
  return new UnservableQueueError(streamRefusalMessage(queue));
}

/**
 * What serve checks, once, about a queue another program declared, before it consumes: a
 * stream is refused (each consumer reads every message of a stream, none is ever taken away,
 * so requests would be answered once per worker and stay for ever); limits that can drop or
 * refuse requests are logged. AMQP 0-9-1 cannot read a queue's arguments: they are learned
 * from the broker's 406 answers to probe declares (see queue-probe.ts), which needs the
 * configure permission; without it, or for limits set by a policy, nothing is said.
 */
export async function checkAdoptedQueue(connection: ChannelModel, queue: string, kind: QueueKind, log: WorkerLog): Promise<void> {
  if ((await inspectQueue(connection, queue)) === null) return; // serve will declare it
  if ((await probeIsStream(connection, queue)) === true) throw streamRefusal(queue);
  const declaration = queueDeclaration(kind);
  const shape = await probeQueueShape(connection, queue, { durable: declaration.durable, autoDelete: false, arguments: declaration.arguments });
  if (shape === undefined) {
    log.debug(`could not read the arguments of queue '${queue}' (it takes the configure permission); its limits, if any, are not known`);
    return;
  }
  const limits = describeRequestLimits(shape.arguments);
  if (limits.length > 0) log.warn(`queue '${queue}' has limits that can drop or refuse requests: ${limits.join("; ")}`);
  else log.debug(`queue '${queue}' has no limits in its arguments (a policy may still set some)`);
}
