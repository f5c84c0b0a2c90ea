import { NoServerError } from "../errors.ts";
import { streamRefusal } from "./adopted-queue.ts";
import type { NodeConnection } from "./broker.ts";
import type { EngineOptions, OpenOptions } from "./engine-options.ts";
import { Link, type LinkEvents } from "./link.ts";
import { awaitServer, type Presence } from "./server-presence.ts";

/**
 * A request engine's link on a fresh connection, and, on the same connection at the same time
 * (one round trip instead of two), the look for a worker that `open.serverCheck` asks for. The
 * connection is closed when either fails; a queue without workers that is a stream is named as
 * one, since no fibrpc worker serves a stream. An empty stream shows 0 messages and 0 consumers,
 * like a quorum queue mid-election, and its counts lag by seconds once a request is in it: so a
 * first look of 0/0 asks whether the queue is a stream (only then, never with a worker present),
 * rather than sending a request no worker will take and waiting out the deadline.
 */
export async function attachWithLook(
  node: NodeConnection,
  options: EngineOptions,
  events: LinkEvents,
  open: OpenOptions,
): Promise<{ link: Link; presence: Presence }> {
  const { queue, timeoutMs } = options;
  const [attached, checked] = await Promise.allSettled([
    Link.attach(node, options, events),
    awaitServer((name) => Link.inspectOn(node, name), queue, open.serverCheck, open.deadlineMs ?? Date.now() + timeoutMs),
  ]);
  if (attached.status === "rejected") {
    await node.connection.close().catch(() => {});
    throw attached.reason;
  }
  if (checked.status === "rejected") {
    const reason: unknown = checked.reason;
    const explained = reason instanceof NoServerError ? await attached.value.explainAbsence(queue, reason) : reason;
    await attached.value.close();
    throw explained;
  }
  if (checked.value === "undecided" && open.serverCheck === "fail-fast" && (await attached.value.isStream(queue))) {
    await attached.value.close();
    throw streamRefusal(queue);
  }
  return { link: attached.value, presence: checked.value };
}
