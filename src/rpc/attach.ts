import { NoServerError } from "../errors.ts";
import type { NodeConnection } from "./broker.ts";
import type { EngineOptions, OpenOptions } from "./engine-options.ts";
import { Link, type LinkEvents } from "./link.ts";
import { awaitServer, type Presence } from "./server-presence.ts";

/**
 * A request engine's link on a fresh connection, and, on the same connection at the same time
 * (one round trip instead of two), the look for a worker that `open.serverCheck` asks for. The
 * connection is closed when either fails; a queue without workers that is a stream is named as
 * one, since no fibrpc worker serves a stream.
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
  return { link: attached.value, presence: checked.value };
}
