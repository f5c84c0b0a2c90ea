import { directReplyNode } from "./direct-reply-to.ts";

/** What to do with a reply before publishing it. */
export type ReplyVerdict =
  /** Publish it: its caller's node is not suspected. */
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
  /** Its node is down: a publish would cost the connection. */
  | "node-down"
  /** The check itself failed: treated as down until the next check, the request is not answered. */
  | "unknown";

type NodeState = { kind: "suspect" } | { kind: "down"; checkedAtMs: number };

/**
 * Which callers' broker nodes a reply must not be published to. A node becomes suspect when
 * the worker's connection died with replies to it unconfirmed (RabbitMQ 3.10 closes it with
 * 541 when a reply names a node that is not running); a reply to a suspect node is checked on
 * a connection of its own before it is published, and a node found down stays so for
 * `recheckAfterMs`, during which replies to it are dropped without a check. Pure: the caller
 * passes the clock and performs the checks.
 */
export class ReplyNodeHealth {
  private readonly nodes = new Map<string, NodeState>();

  constructor(private readonly recheckAfterMs = 1000) {}

  /** The connection died while replies to these addresses were unconfirmed. */
  suspect(replyTos: Iterable<string>): void {
    for (const replyTo of replyTos) {
      const node = directReplyNode(replyTo);
      if (node !== undefined && !this.nodes.has(node)) this.nodes.set(node, { kind: "suspect" });
    }
  }

  verdict(replyTo: string, nowMs: number): ReplyVerdict {
    const node = directReplyNode(replyTo);
    const state = node === undefined ? undefined : this.nodes.get(node);
    if (state === undefined) return "send";
    if (state.kind === "suspect") return "check";
    return nowMs - state.checkedAtMs >= this.recheckAfterMs ? "check" : "drop";
  }

  /** Records what a check found; returns whether to publish the reply. */
  record(replyTo: string, found: AddressCheck, nowMs: number): boolean {
    const node = directReplyNode(replyTo);
    if (node === undefined) return found === "alive";
    if (found === "alive" || found === "gone") this.nodes.delete(node);
    else this.nodes.set(node, { kind: "down", checkedAtMs: nowMs });
    return found === "alive";
  }

  /** The node a reply address names, for log lines. */
  static nodeOf(replyTo: string): string | undefined {
    return directReplyNode(replyTo);
  }
}
