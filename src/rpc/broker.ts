import type { ChannelModel, Options, RecoveringChannelModel, RecoveryOptions } from "amqplib";
import { redactUrl, scrubSecret } from "../redact.ts";
import { BrokerRefusedError, BrokerUnreachableError, CertificateRejectedError, FibrpcError, NoServerError } from "../errors.ts";

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

function socketOptions(options: BrokerOptions, amqp: typeof import("amqplib")): Record<string, unknown> {
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
async function amqplib(): Promise<typeof import("amqplib")> {
  return import("amqplib");
}

/** A connection and the node it was made to (for messages that must name the node). */
export interface NodeConnection {
  connection: ChannelModel;
  url: string;
}

/**
 * One plain connection, for short-lived commands: the listed nodes are tried in turn, starting
 * at `start` (random by default, so that many processes given one list spread over its nodes),
 * until one accepts. A refused node costs a round trip, a silent one the connect timeout.
 * When none accepts, the error of the most telling failure is thrown, typed: a refusal of our
 * credentials or a certificate problem outranks a node that is merely down.
 */
export async function openConnection(
  options: BrokerOptions,
  start = Math.floor(Math.random() * options.urls.length),
): Promise<NodeConnection> {
  const amqp = await amqplib();
  const failures: FibrpcError[] = [];
  for (let offset = 0; offset < options.urls.length; offset++) {
    const url = options.urls[(start + offset) % options.urls.length] ?? options.urls[0];
    try {
      return { connection: await amqp.connect(connectTarget(url, options), socketOptions(options, amqp)), url };
    } catch (error) {
      failures.push(classifyBrokerError(error, url));
    }
  }
  throw mostTellingFailure(failures);
}

/** Of the failures of one walk over the nodes, the one to report; with several nodes all down, one line naming each. */
function mostTellingFailure(failures: readonly FibrpcError[]): FibrpcError {
  const [first] = failures;
  if (first === undefined) throw new Error("no broker node was tried");
  const configuration = failures.find((failure) => failure.kind === "refused" || failure instanceof CertificateRejectedError);
  if (configuration !== undefined) return configuration;
  if (failures.length === 1) return first;
  return new BrokerUnreachableError(`no broker node reachable: ${failures.map((failure) => failure.message).join("; ")}`, { cause: first });
}

/** A connection that reconnects by itself (amqplib's recovery); `setup` runs after each (re)connect. */
export async function openRecoveringConnection(
  options: BrokerOptions,
  recovery: RecoveryOptions,
): Promise<RecoveringChannelModel> {
  const amqp = await amqplib();
  return amqp.connect(connectTarget(options.urls[0], options), { ...socketOptions(options, amqp), recovery: { ...recovery, waitForConnect: false } });
}

const UNREACHABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EPIPE",
]);

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
    const what = /^Channel closed/.test(raw) ? "refused an operation: this user lacks a permission" : "refused the login: wrong user or password";
    return new BrokerRefusedError(`broker at ${where} ${what} (${detail})`, { cause: error });
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
    return new CertificateRejectedError(
      `broker unreachable at ${where}: TLS: certificate verify failed (${detail})`,
      { cause: error, hint: "trust-broker-ca" },
    );
  }
  if ((code !== undefined && (/^ERR_SSL|^ERR_TLS|CERT|SELF_SIGNED/.test(code))) || /SSL|TLS|certificate/i.test(raw)) {
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

/** The no-server verdict for a queue's consumer count (null: the queue does not exist), or undefined when a server is there. */
export function noServerError(queue: string, consumers: number | null): NoServerError | undefined {
  if (consumers === null) return new NoServerError(`no server: queue '${queue}' does not exist`);
  if (consumers === 0) return new NoServerError(`no server: queue '${queue}' has no consumer`);
  return undefined;
}

/** What a dropped connection means to whoever was waiting on it. */
export function connectionLostError(error: Error | undefined, url: string): BrokerUnreachableError {
  const reason = error ? classifyBrokerError(error, url).message : "closed by the broker";
  return new BrokerUnreachableError(`connection to broker lost: ${reason}`, { cause: error });
}
