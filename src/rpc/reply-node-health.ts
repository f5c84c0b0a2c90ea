import { directReplyNode } from "./direct-reply-to.ts";

/** Reply addresses decoded lately, and what they are tracked by; forgotten wholesale when full. */
const decodedKeys = new Map<string, string>();
const DECODED_KEYS_KEPT = 4096;

/** What to do with a reply before publishing it. */
export type ReplyVerdict =
  /** Publish it: its address is known to be safe. */
  | "send"
  /** Check the address first (on a connection that may die), then decide. */
  | "check"
  /** Do not publish: its caller's node was found down a moment ago. */
  | "drop";

/** What a check of a reply address found. */
export type AddressCheck =
  /** The caller still listens there: publish. */
  | "alive"
  /** Its node runs, the caller is gone: nothing to publish for, the node is fine. */
  | "gone"
  /** Its node is down (or the address names none): a publish would cost the connection. */
  | "node-down"
  /** The check itself failed: treated as down until the next check, the request is not answered. */
  | "unknown";

type NodeState = { kind: "trusted" } | { kind: "suspect" } | { kind: "down"; checkedAtMs: number };

const DIRECT_REPLY_TO = "amq.rabbitmq.reply-to.";

/**
 * Which direct reply-to addresses a reply may be published to without a check. RabbitMQ 3.10
 * closes the whole connection (541) that publishes to a direct reply-to address whose node is
 * not running, or that does not decode: a dead caller's node, or a made-up address, would cost
 * the worker its connection on every redelivery. So a reply to a node not yet seen is checked
 * once on a connection that may die instead (and the node trusted when it answers); a trusted
 * node becomes suspect again when the worker's connection died with replies to it in flight;
 * a node found down stays so for `recheckAfterMs`, its replies dropped without a check. A
 * reply to a named queue is always sent (an unknown queue only makes it unroutable). Pure:
 * the caller passes the clock and performs the checks.
 */
export class ReplyNodeHealth {
  private readonly nodes = new Map<string, NodeState>();

  constructor(private readonly recheckAfterMs = 1000) {}

  /** The connection died while replies to these addresses were unconfirmed. */
  suspect(replyTos: Iterable<string>): void {
    for (const replyTo of replyTos) {
      const key = ReplyNodeHealth.keyOf(replyTo);
      if (key !== undefined && this.nodes.get(key)?.kind !== "down") this.nodes.set(key, { kind: "suspect" });
    }
  }

  verdict(replyTo: string, nowMs: number): ReplyVerdict {
    const key = ReplyNodeHealth.keyOf(replyTo);
    if (key === undefined) return "send";
    const state = this.nodes.get(key);
    if (state?.kind === "trusted") return "send";
    if (state?.kind === "down" && nowMs - state.checkedAtMs < this.recheckAfterMs) return "drop";
    return "check";
  }

  /** Records what a check found; returns whether to publish the reply. */
  record(replyTo: string, found: AddressCheck, nowMs: number): boolean {
    const key = ReplyNodeHealth.keyOf(replyTo);
    if (key === undefined) return found === "alive";
    if (found === "alive" || found === "gone") this.nodes.set(key, { kind: "trusted" });
    else this.nodes.set(key, { kind: "down", checkedAtMs: nowMs });
    return found === "alive";
  }

  /** The node a reply address names, for log lines. */
  static nodeOf(replyTo: string): string | undefined {
    return directReplyNode(replyTo);
  }

  /**
   * What a direct reply-to address is tracked by: its node, or, when it does not decode (a
   * made-up address, or a format this code does not know), the address itself. Undefined for a
   * named queue.
   */
  private static keyOf(replyTo: string): string | undefined {
    if (!replyTo.startsWith(DIRECT_REPLY_TO)) return undefined;
    // Every reply asks this, and a caller's channel sends many with one address: decode it once.
    let key = decodedKeys.get(replyTo);
    if (key === undefined) {
      if (decodedKeys.size >= DECODED_KEYS_KEPT) decodedKeys.clear();
      key = directReplyNode(replyTo) ?? `address ${replyTo}`;
      decodedKeys.set(replyTo, key);
    }
    return key;
  }
}
