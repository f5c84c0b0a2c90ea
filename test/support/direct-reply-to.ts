/**
 * Direct reply-to addresses for tests. RabbitMQ 3.10 names a caller's address after its
 * channel's pid, whose node is `reply@<hash of the node name>`; an address whose hash names no
 * running node makes the broker close the connection that publishes to it (541), which is what
 * a caller on a dead cluster node looks like, reproducible on one node.
 */

/** An address in RabbitMQ 3.10's format whose node hash is no running node's. */
export function deadNodeReplyTo(hash = String(1_000_000 + Math.floor(Math.random() * 8_999_999))): string {
  const node = Buffer.from(`reply@${hash}`, "utf8");
  const term = Buffer.concat([
    Buffer.from([131, 88, 118]), // version, NEW_PID_EXT, ATOM_UTF8_EXT
    Buffer.from([node.length >> 8, node.length & 0xff]),
    node,
    Buffer.from([0, 0, 0x1a, 0x2b, 0, 0, 0, 0, 0x6b, 0x0d, 0x0e, 0xb2]), // id, serial, creation
  ]);
  return `amq.rabbitmq.reply-to.${term.toString("base64")}.${Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64")}`;
}
