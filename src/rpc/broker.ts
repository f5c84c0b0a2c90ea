import type { ChannelModel, Options } from "amqplib";
import { redactUrl, scrubSecret } from "../redact.ts";
import { BrokerRefusedError, BrokerUnreachableError, CertificateRejectedError, FibrpcError } from "../errors.ts";

/** How to reach the broker: everything a command needs to open a connection. */
export interface BrokerOptions {
  /** The broker's nodes, each a full URL with its own credentials; at least one. */
  urls: readonly [string, ...string[]];
  /** Seconds; 0 turns heartbeats off. Undefined keeps what the URL or broker says. */
  heartbeatSeconds?: number | undefined;
  connectTimeoutMs?: number | undefined;
  /** For amqps:// URLs: whom to trust and who we are. Undefined: the system's CAs, no client certificate. */
  tls?: TlsOptions | undefined;
}

export interface TlsOptions {
  /** PEM certificates to trust instead of the system's (a private CA). */
  ca?: Buffer | undefined;
  /** PEM client certificate and its key, for brokers that ask for one. */
  cert?: Buffer | undefined;
  key?: Buffer | undefined;
  /** False only when the user asked for it (--insecure): the broker's certificate is not checked. */
  verify: boolean;
  /** Log in with the client certificate (SASL EXTERNAL) rather than the URL's user and password. */
  external: boolean;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 5000;

export function socketOptions(options: BrokerOptions, amqp: typeof import("amqplib")): Record<string, unknown> {
  return {
    timeout: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    clientProperties: { connection_name: "fibrpc" },
    ...(options.tls ? tlsSocketOptions(options.tls, amqp) : {}),
  };
}

/** amqplib hands these to tls.connect for amqps:// URLs (and ignores them for amqp://). */
function tlsSocketOptions(tls: TlsOptions, amqp: typeof import("amqplib")): Record<string, unknown> {
  return {
    rejectUnauthorized: tls.verify,
    ...(tls.ca ? { ca: [tls.ca] } : {}),
    ...(tls.cert ? { cert: tls.cert } : {}),
    ...(tls.key ? { key: tls.key } : {}),
    ...(tls.external ? { credentials: amqp.credentials.external() } : {}),
  };
}

function connectTarget(nodeUrl: string, options: BrokerOptions): string | Options.Connect {
  if (options.heartbeatSeconds === undefined) return nodeUrl;
  const url = new URL(nodeUrl);
  url.searchParams.set("heartbeat", String(options.heartbeatSeconds));
  return url.toString();
}

/**
 * amqplib is imported on first use, not at start-up: the bundler would otherwise evaluate it
 * for every command, `--help` and `--version` included (~15 ms in a compiled binary).
 */
export async function amqplib(): Promise<typeof import("amqplib")> {
  return import("amqplib");
}

/** A connection and the node it was made to (for messages that must name the node). */
export interface NodeConnection {
  connection: ChannelModel;
  url: string;
}

export interface WalkOptions {
  /** Index in the list of the first node to try; random by default, so that many processes given one list spread over it. */
  start?: number | undefined;
  /** Nodes not to try (the one just lost), unless nothing else is listed. */
  skip?: string | undefined;
  /** Epoch ms after which no node is tried, and no attempt lasts longer than what is left. */
  deadlineMs?: number | undefined;
}

/**
 * One plain connection, for short-lived commands: the listed nodes are tried in turn until one
 * accepts. A refused node costs a round trip, a silent one the connect timeout (or what is left
 * of the deadline). When none accepts, the most telling failure is thrown, typed: a refusal of
 * our credentials or a certificate problem outranks a node that is merely down.
 */
export async function openConnection(options: BrokerOptions, walk: WalkOptions = {}): Promise<NodeConnection> {
  const amqp = await amqplib();
  const failures: FibrpcError[] = [];
  for (const url of nodeOrder(options.urls, walk)) {
    const leftMs = walk.deadlineMs === undefined ? Number.POSITIVE_INFINITY : walk.deadlineMs - Date.now();
    if (leftMs <= 0 && failures.length > 0) break;
    const timeout = Math.max(1, Math.min(options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS, leftMs));
    try {
      return { connection: await amqp.connect(connectTarget(url, options), { ...socketOptions(options, amqp), timeout }), url };
    } catch (error) {
      failures.push(classifyBrokerError(error, url));
    }
  }
  throw mostTellingFailure(failures);
}

/** The order in which to try the nodes: from `start` round the list, a node to skip moved to the end. Pure. */
export function nodeOrder(urls: readonly string[], walk: Pick<WalkOptions, "start" | "skip"> = {}): string[] {
  const start = walk.start ?? Math.floor(Math.random() * urls.length);
  const rotated = urls.map((_, offset) => urls[(start + offset) % urls.length] ?? "");
  if (walk.skip === undefined) return rotated;
  return [...rotated.filter((url) => url !== walk.skip), ...rotated.filter((url) => url === walk.skip)];
}

/** Of the failures of one walk over the nodes, the one to report; with several nodes all down, one line naming each. */
export function mostTellingFailure(failures: readonly FibrpcError[]): FibrpcError {
  const [first] = failures;
  if (first === undefined) throw new Error("no broker node was tried");
  const configuration = failures.find((failure) => failure.kind === "refused" || failure instanceof CertificateRejectedError);
  if (configuration !== undefined) return configuration;
  if (failures.length === 1) return first;
  return new BrokerUnreachableError(`no broker node reachable: ${failures.map((failure) => failure.message).join("; ")}`, { cause: first });
}

const UNREACHABLE_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "EPIPE"]);

/** OpenSSL's verification results as Node and Bun report them, and a name that does not match. */
const CERTIFICATE_REJECTED = /^(UNABLE_TO_|SELF_SIGNED_CERT|DEPTH_ZERO_SELF_SIGNED|CERT_|ERR_TLS_CERT_ALTNAME_INVALID$)/;

/**
 * Maps whatever amqplib or the socket threw into fibrpc's error model, with a message
 * that names the broker (password hidden) and says what went wrong.
 */
export function classifyBrokerError(error: unknown, url: string): FibrpcError {
  if (error instanceof FibrpcError) return error;
  const where = redactUrl(url);
  const code = errorCode(error);
  const raw = error instanceof Error ? error.message : String(error);
  const detail = scrubSecret(raw, url);

  if (/ACCESS[-_]REFUSED|403/.test(raw)) {
    // A channel closed with 403 comes after a good login: the user lacks a permission.
    const what = raw.startsWith("Channel closed") ? "refused an operation: this user lacks a permission" : "refused the login: wrong user or password";
    return new BrokerRefusedError(`broker at ${where} ${what} (${detail})`, { cause: error });
  }
  if (/RESOURCE[-_]LOCKED|\b405\b/.test(raw)) {
    // Another connection declared the queue exclusive: only it may look at it or consume from it.
    return new BrokerRefusedError(`broker at ${where} refused access to the queue: it is exclusive to another connection (${detail})`, {
      cause: error,
      code: "QUEUE_LOCKED",
    });
  }
  if (/NOT_ALLOWED|530/.test(raw) || /Expected ConnectionOpenOk; got <ConnectionClose/.test(raw)) {
    return new BrokerRefusedError(`broker at ${where} refused access to the virtual host: it is missing or this user has no permission on it`, {
      cause: error,
    });
  }
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") {
    return new BrokerUnreachableError(`cannot resolve broker host in ${where} (${detail})`, { cause: error });
  }
  if (code === "ECONNREFUSED") {
    return new BrokerUnreachableError(`broker unreachable at ${where}: connection refused`, { cause: error });
  }
  if (code !== undefined && CERTIFICATE_REJECTED.test(code)) {
    return new CertificateRejectedError(`broker unreachable at ${where}: TLS: certificate verify failed (${detail})`, {
      cause: error,
      hint: "trust-broker-ca",
    });
  }
  if ((code !== undefined && /^ERR_SSL|^ERR_TLS|CERT|SELF_SIGNED/.test(code)) || /SSL|TLS|certificate/i.test(raw)) {
    return new BrokerUnreachableError(`TLS handshake with ${where} failed: ${detail}`, { cause: error });
  }
  if ((code !== undefined && UNREACHABLE_CODES.has(code)) || /timeout|socket|closed|CONNECTION_FORCED|320/i.test(raw)) {
    return new BrokerUnreachableError(`broker unreachable at ${where}: ${detail}`, { cause: error });
  }
  return new BrokerUnreachableError(`broker at ${where} failed: ${detail}`, { cause: error });
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null || !("code" in error)) return undefined;
  return typeof error.code === "string" ? error.code : undefined;
}

/** amqplib reports a channel closed by 404 NOT_FOUND with a numeric `code`. */
export function isNotFound(error: unknown): boolean {
  return typeof error === "object" && error !== null && "code" in error && error.code === 404;
}

/** A queue as the broker sees it, or null when it does not exist. */
export interface QueueState {
  messageCount: number;
  consumerCount: number;
}

/**
 * Looks at a queue without creating or changing it. A passive declare of a missing queue
 * closes its channel (and emits 'error' on it), so it runs on a channel of its own.
 */
export async function inspectQueue(connection: ChannelModel, queue: string): Promise<QueueState | null> {
  const channel = await connection.createChannel();
  channel.on("error", () => {}); // the 404 below is expected and handled by the rejection
  try {
    const state = await channel.checkQueue(queue);
    void channel.close().catch(() => {});
    return { messageCount: state.messageCount, consumerCount: state.consumerCount };
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
}

/** What a dropped connection means to whoever was waiting on it. */
export function connectionLostError(error: Error | undefined, url: string): BrokerUnreachableError {
  const reason = error ? classifyBrokerError(error, url).message : "closed by the broker";
  return new BrokerUnreachableError(`connection to broker lost: ${reason}`, { cause: error });
}
