import type { ChannelModel } from "amqplib";
import { within } from "../within.ts";
import { isNotFound } from "./broker.ts";
import { ReplyNodeHealth, type AddressCheck } from "./reply-node-health.ts";

/** Longest a check of a reply address may take before it counts as failed. */
const CHECK_TIMEOUT_MS = 2000;

/**
 * Keeps replies that would cost the worker its connection from being published. A reply to
 * a direct reply-to address whose broker node is not running, or that does not decode, makes
 * RabbitMQ 3.10 close the publishing connection (541 INTERNAL_ERROR), and the unacked request
 * comes back to do it again: a reconnect storm. A reply to a node not yet seen, or suspected
 * since a loss, is first checked by a passive declare of its address on a side connection
 * that may die in its place (declare-ok: the caller listens; 404: the caller is gone; the side
 * connection closed: the node is down). See ReplyNodeHealth for the bookkeeping.
 */
export class ReplyGuard {
  private readonly health: ReplyNodeHealth;

  constructor(
    private readonly checker: AddressChecker,
    recheckAfterMs?: number,
    private readonly clock: () => number = Date.now,
  ) {
    this.health = new ReplyNodeHealth(recheckAfterMs);
  }

  /** The worker's connection died with replies to these addresses unconfirmed. */
  suspect(replyTos: Iterable<string>): void {
    this.health.suspect(replyTos);
  }

  /** true: publish the reply; false: drop the request; a promise when the address is checked first. */
  admit(replyTo: string): boolean | Promise<boolean> {
    const verdict = this.health.verdict(replyTo, this.clock());
    if (verdict !== "check") return verdict === "send";
    return this.checker.check(replyTo).then((found) => this.health.record(replyTo, found, this.clock()));
  }

  close(): Promise<void> {
    return this.checker.close();
  }
}

export interface AddressChecker {
  check(replyTo: string): Promise<AddressCheck>;
  close(): Promise<void>;
}

/**
 * Checks reply addresses on a connection of its own, opened when first needed and again after
 * it died, and closed when it has had nothing to check for a while (checks are rare: once per
 * caller node, and after a loss).
 */
export class SideConnectionChecker implements AddressChecker {
  private connection: Promise<ChannelModel> | undefined;
  private closedBy: Error | undefined;
  private idleTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly open: () => Promise<ChannelModel>,
    private readonly idleCloseMs = 10_000,
  ) {}

  async check(replyTo: string): Promise<AddressCheck> {
    clearTimeout(this.idleTimer);
    const found = (await within(this.checkOnce(replyTo), CHECK_TIMEOUT_MS)) ?? "unknown";
    this.idleTimer = setTimeout(() => void this.close(), this.idleCloseMs);
    this.idleTimer.unref?.();
    return found;
  }

  async close(): Promise<void> {
    clearTimeout(this.idleTimer);
    const connection = this.connection;
    this.connection = undefined;
    await connection?.then((open) => open.close()).catch(() => {});
  }

  private async checkOnce(replyTo: string): Promise<AddressCheck> {
    let connection: ChannelModel;
    try {
      connection = await this.connectionNow();
      const channel = await connection.createChannel();
      channel.on("error", () => {}); // a 404 closes this channel; the rejection below says so
      await channel.checkQueue(replyTo);
      void channel.close().catch(() => {});
      return "alive";
    } catch (error) {
      if (isNotFound(error)) return "gone";
      return this.closedBy !== undefined && /\b541\b|INTERNAL.ERROR/.test(this.closedBy.message) ? "node-down" : "unknown";
    }
  }

  private connectionNow(): Promise<ChannelModel> {
    if (this.connection !== undefined) return this.connection;
    this.closedBy = undefined;
    const opening = this.open().then((connection) => {
      connection.on("error", (error: Error) => {
        this.closedBy = error;
      });
      connection.on("close", () => {
        if (this.connection === opening) this.connection = undefined;
      });
      return connection;
    });
    opening.catch(() => {
      if (this.connection === opening) this.connection = undefined;
    });
    this.connection = opening;
    return opening;
  }
}
