import type { ChannelModel, Options, RecoveringChannelModel } from "amqplib";
import { amqplib, socketOptions, type BrokerOptions } from "./broker.ts";
import { DEFAULT_BACKOFF, delayBeforeAttempt, NodeRotation, type BackoffBounds } from "./failover-plan.ts";

/** A connection that reconnects by itself to any listed node, and the node it is on. */
export interface FailoverConnection {
  readonly recovering: RecoveringChannelModel;
  /** The listed URL of the node connected (or being tried) now; redact it before showing it. */
  readonly nodeUrl: string;
}

export interface FailoverOptions {
  /** Runs after each (re)connect, before the connection counts as made; a rejection means "try again". */
  setup: (connection: ChannelModel) => Promise<void>;
  backoff?: BackoffBounds;
  random?: () => number;
}

/**
 * amqplib's connection recovery over several nodes. Recovery takes one connect target, but
 * reads an `Options.Connect` object afresh on every attempt and emits 'reconnect-scheduled'
 * synchronously before it arms its timer: the object is pointed at the next node there, and
 * the delay comes from the failover plan (no wait before a node not yet tried in this run).
 */
export async function openFailoverConnection(broker: BrokerOptions, options: FailoverOptions): Promise<FailoverConnection> {
  const amqp = await amqplib();
  const random = options.random ?? Math.random;
  const rotation = new NodeRotation(broker.urls, random);
  const target: Options.Connect = connectOptionsFor(rotation.current, broker.heartbeatSeconds);
  const recovering = await amqp.connect(target, {
    ...socketOptions(broker, amqp),
    recovery: {
      setup: options.setup,
      waitForConnect: false,
      calculateDelay: (attempt) => delayBeforeAttempt(attempt, rotation.count, options.backoff ?? DEFAULT_BACKOFF, random),
    },
  });
  recovering.on("reconnect-scheduled", () => retarget(target, connectOptionsFor(rotation.advance(), broker.heartbeatSeconds)));
  return {
    recovering,
    get nodeUrl() {
      return rotation.current;
    },
  };
}

/** One plain connection to one listed node, e.g. a side connection that may die in the worker's place. */
export async function connectToNode(broker: BrokerOptions, nodeUrl: string): Promise<ChannelModel> {
  const amqp = await amqplib();
  return amqp.connect(connectOptionsFor(nodeUrl, broker.heartbeatSeconds), socketOptions(broker, amqp));
}

/**
 * Drops a connection at once, without the close handshake: for a node that stopped answering,
 * whose close-ok would never come (recovery waits for it before trying the next node). Reaches
 * into amqplib for the socket; when it is not where expected, nothing happens.
 */
export function abortConnection(connection: ChannelModel): void {
  const socket = (connection as unknown as { connection?: { stream?: { destroy?: () => void } } }).connection?.stream;
  socket?.destroy?.();
}

/** Replaces every field of `target` (a node without credentials must not keep the last one's). */
function retarget(target: Options.Connect, next: Options.Connect): void {
  for (const key of Object.keys(target)) delete target[key as keyof Options.Connect];
  Object.assign(target, next);
}

/**
 * What amqplib reads from a URL string, as an `Options.Connect` object: the same defaults
 * (guest/guest when the URL names no user, the scheme's port, vhost "/"), the tuning query
 * parameters amqplib knows, and `heartbeatSeconds` over the URL's own heartbeat.
 */
export function connectOptionsFor(nodeUrl: string, heartbeatSeconds?: number): Options.Connect {
  const url = new URL(nodeUrl);
  const protocol = url.protocol.replace(/:$/, "");
  const query = url.searchParams;
  const numberParameter = (name: string): { [key: string]: number } => {
    const value = query.get(name);
    return value === null || !Number.isFinite(Number(value)) ? {} : { [name]: Number(value) };
  };
  const heartbeat = heartbeatSeconds === undefined ? numberParameter("heartbeat") : { heartbeat: heartbeatSeconds };
  const credentials = url.username === "" && url.password === "" ? {} : { username: decoded(url.username), password: decoded(url.password) };
  return {
    protocol,
    hostname: url.hostname.replace(/^\[|\]$/g, ""),
    port: url.port === "" ? (protocol === "amqps" ? 5671 : 5672) : Number(url.port),
    ...credentials,
    // Left escaped: amqplib unescapes the vhost, as it does for a URL string.
    vhost: url.pathname.slice(1),
    ...heartbeat,
    ...numberParameter("frameMax"),
    ...numberParameter("channelMax"),
    ...(query.get("locale") === null ? {} : { locale: query.get("locale") ?? "" }),
  };
}

function decoded(component: string): string {
  try {
    return decodeURIComponent(component);
  } catch {
    return component;
  }
}
