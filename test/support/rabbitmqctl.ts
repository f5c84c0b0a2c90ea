/**
 * What only the broker's own tool shows: a passive declare (checkQueue) counts ready messages
 * only, so a request the worker holds unacked, or requeues in a loop, looks like "nothing left".
 * Needs rabbitmqctl on the broker's machine, as the fault tests do.
 */

/** Which node to ask: the shared one by default, or a throwaway RabbitNode's name and environment. */
export interface CtlTarget {
  nodeName?: string;
  env?: Record<string, string>;
}

export interface QueueTotals {
  ready: number;
  unacked: number;
  consumers: number;
}

async function run(args: string[], target: CtlTarget): Promise<string> {
  const node = target.nodeName === undefined ? [] : ["-n", target.nodeName];
  const proc = Bun.spawn(["rabbitmqctl", ...node, ...args], {
    env: { ...process.env, ...target.env },
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
  });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`rabbitmqctl ${args.join(" ")} failed (${code}): ${err}`);
  return out;
}

interface QueueRow {
  name: string;
  type: string;
  messages_ready: number;
  messages_unacknowledged: number;
  consumers: number;
}

/**
 * Ready, unacked and consumers of the classic queue `queue`, or null when it does not exist.
 * Classic only: a quorum queue reports these from a tick every few seconds (RabbitMQ 3.10), so
 * its "0 unacked" may be old news; a test that counts unacked requests uses a classic queue.
 */
export async function queueTotals(queue: string, target: CtlTarget = {}): Promise<QueueTotals | null> {
  const text = await run(["list_queues", "-q", "--formatter", "json", "name", "type", "messages_ready", "messages_unacknowledged", "consumers"], target);
  const row = (JSON.parse(text) as QueueRow[]).find((each) => each.name === queue);
  if (row === undefined) return null;
  if (row.type !== "classic") throw new Error(`queueTotals: '${queue}' is a ${row.type} queue, whose counts lag; use a classic queue`);
  return { ready: row.messages_ready, unacked: row.messages_unacknowledged, consumers: row.consumers };
}

/** True when nothing of `queue` is ready or unacked: every request was acked (or dropped by the broker). */
export async function queueSettled(queue: string, target: CtlTarget = {}): Promise<boolean> {
  const totals = await queueTotals(queue, target);
  return totals !== null && totals.ready === 0 && totals.unacked === 0;
}
