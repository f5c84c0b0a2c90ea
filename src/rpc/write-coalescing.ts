import type { ChannelModel } from "amqplib";

/** The two amqplib internals this module relies on: the model's Connection and its socket. */
interface SocketLike {
  write(chunk: unknown, ...rest: unknown[]): boolean;
  end(...args: unknown[]): unknown;
  readonly writableNeedDrain?: boolean;
}
interface ModelInternals {
  connection?: { stream?: SocketLike };
}

const COALESCED = Symbol("fibrpc.coalescedWrites");

/**
 * amqplib hands the socket one small buffer per frame group (each publish, each ack), and
 * under Bun each write is its own send(2): at 10k calls/s that is tens of thousands of
 * syscalls a second, most of the worker's time. This gathers the writes made in one turn
 * of the event loop and sends them as one buffer at the end of that turn (a microtask), so
 * a burst of replies and acks costs one syscall. Nothing is delayed past the current turn,
 * so latency at one request in flight is unchanged.
 *
 * Returns false (and changes nothing) when amqplib's internals are not where expected.
 */
export function coalesceWrites(model: ChannelModel): boolean {
  const socket = (model as unknown as ModelInternals).connection?.stream;
  if (socket === undefined || typeof socket.write !== "function") return false;
  const marked = socket as SocketLike & { [COALESCED]?: true };
  if (marked[COALESCED]) return true;
  marked[COALESCED] = true;

  const write = socket.write.bind(socket);
  const end = socket.end.bind(socket);
  let pending: Buffer[] = [];
  let pendingBytes = 0;

  const flush = (): void => {
    if (pending.length === 0) return;
    const chunks = pending;
    const bytes = pendingBytes;
    pending = [];
    pendingBytes = 0;
    write(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, bytes));
  };

  socket.write = (chunk: unknown, ...rest: unknown[]): boolean => {
    // Only plain buffers without an encoding or callback are gathered (all amqplib sends).
    if (!Buffer.isBuffer(chunk) || rest.length > 0) {
      flush();
      return write(chunk, ...rest);
    }
    if (pending.length === 0) queueMicrotask(flush);
    pending.push(chunk);
    pendingBytes += chunk.length;
    return socket.writableNeedDrain !== true;
  };
  socket.end = (...args: unknown[]): unknown => {
    flush();
    return end(...args);
  };
  return true;
}
