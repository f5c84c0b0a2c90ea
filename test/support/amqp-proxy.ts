/**
 * A TCP relay between one program and the broker that can hold back what the broker sends
 * (the bytes wait, nothing is lost) and names the AMQP methods the program sends. With it a
 * test can keep a publish confirm outstanding for exactly as long as it needs, instead of
 * hoping a race goes its way: hold, let the worker publish, signal it, release.
 */
import net from "node:net";
import { eventually } from "./broker.ts";

/** `class.method` ids of the AMQP 0-9-1 methods tests look for. */
export const METHOD = {
  basicPublish: "60.40",
  basicCancel: "60.30",
  basicAck: "60.80",
  basicNack: "60.120",
  channelClose: "20.40",
  connectionClose: "10.50",
} as const;

const PROTOCOL_HEADER_BYTES = 8;
const FRAME_METHOD = 1;
/** type (1) + channel (2) + size (4) before the payload, frame-end octet after it. */
const FRAME_OVERHEAD = 8;

/** Reads the frames of a client-to-broker byte stream as they arrive and reports each method's id. */
class MethodReader {
  private pending = Buffer.alloc(0);
  private headerLeft = PROTOCOL_HEADER_BYTES;

  constructor(private readonly onMethod: (id: string) => void) {}

  push(chunk: Buffer): void {
    this.pending = Buffer.concat([this.pending, chunk]);
    if (this.headerLeft > 0) {
      const skipped = Math.min(this.headerLeft, this.pending.length);
      this.pending = this.pending.subarray(skipped);
      this.headerLeft -= skipped;
    }
    while (this.pending.length >= 7) {
      const size = this.pending.readUInt32BE(3);
      if (this.pending.length < size + FRAME_OVERHEAD) return;
      if (this.pending[0] === FRAME_METHOD) this.onMethod(`${this.pending.readUInt16BE(7)}.${this.pending.readUInt16BE(9)}`);
      this.pending = this.pending.subarray(size + FRAME_OVERHEAD);
    }
  }
}

export class AmqpProxy {
  /** Every method the program sent, in order, over all its connections. */
  readonly methodsSent: string[] = [];
  private holding = false;
  private readonly held: (() => void)[] = [];
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  /** Listens on a free loopback port and relays each connection to `targetPort`. */
  static async start(targetPort = 5672): Promise<AmqpProxy> {
    let proxy: AmqpProxy | undefined;
    const server = net.createServer((client) => proxy?.relay(client, targetPort));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("proxy has no TCP port");
    proxy = new AmqpProxy(server, address.port);
    return proxy;
  }

  /** `url` with its port replaced by the proxy's. */
  urlFor(url: string): string {
    const parsed = new URL(url);
    parsed.port = String(this.port);
    return parsed.toString();
  }

  /** From now on, bytes from the broker wait in the proxy until `release()`. */
  hold(): void {
    this.holding = true;
  }

  /** Delivers what was held, in order, and lets everything through again. */
  release(): void {
    this.holding = false;
    for (const deliver of this.held.splice(0)) deliver();
  }

  /** Waits for a method the program sends after the first `after` ones that `matches` accepts. */
  async waitForMethod(matches: (id: string) => boolean, after: number, timeoutMs = 10_000): Promise<boolean> {
    return eventually(() => this.methodsSent.slice(after).some(matches), timeoutMs, 5);
  }

  async close(): Promise<void> {
    this.release();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private relay(client: net.Socket, targetPort: number): void {
    const broker = net.connect(targetPort, "127.0.0.1");
    this.sockets.add(client).add(broker);
    const reader = new MethodReader((id) => this.methodsSent.push(id));
    client.on("data", (chunk: Buffer) => {
      reader.push(chunk);
      broker.write(chunk);
    });
    broker.on("data", (chunk: Buffer) => {
      if (this.holding) this.held.push(() => client.write(chunk));
      else client.write(chunk);
    });
    const end = (): void => {
      client.destroy();
      broker.destroy();
    };
    for (const socket of [client, broker]) {
      socket.on("error", end);
      socket.on("close", end);
    }
  }
}
