/**
 * What a direct reply-to address says about where its caller is. RabbitMQ names a caller's
 * reply address `amq.rabbitmq.reply-to.<base64 of an Erlang pid>.<key>`; the pid carries the
 * caller's broker node: `reply@<hash of the node name>` since RabbitMQ 3.10, the node name
 * before. A reply to an address whose node is not running makes RabbitMQ 3.10 crash the
 * publishing channel and close the whole connection (541 INTERNAL_ERROR), so the worker keeps
 * track of nodes by this name. Pure.
 */

const PREFIX = "amq.rabbitmq.reply-to.";

/** Erlang external term format tags (erts/emulator/beam/external.h). */
const VERSION_MAGIC = 131;
const PID_TAGS = new Set([88 /* NEW_PID_EXT */, 103 /* PID_EXT */]);
const ATOM_TAGS_WITH_16_BIT_LENGTH = new Set([100 /* ATOM_EXT */, 118 /* ATOM_UTF8_EXT */]);
const ATOM_TAGS_WITH_8_BIT_LENGTH = new Set([115 /* SMALL_ATOM_EXT */, 119 /* SMALL_ATOM_UTF8_EXT */]);

/**
 * The broker node a direct reply-to address belongs to, as the address names it (e.g.
 * `reply@9248884`); undefined for a named queue or an address that does not decode.
 */
export function directReplyNode(replyTo: string): string | undefined {
  if (!replyTo.startsWith(PREFIX)) return undefined;
  const pidPart = replyTo.slice(PREFIX.length).split(".")[0] ?? "";
  if (!/^[A-Za-z0-9+/]+=*$/.test(pidPart)) return undefined;
  const bytes = Buffer.from(pidPart, "base64");
  if (bytes[0] !== VERSION_MAGIC || !PID_TAGS.has(bytes[1] ?? -1)) return undefined;
  const atomTag = bytes[2] ?? -1;
  let start: number;
  let length: number;
  if (ATOM_TAGS_WITH_16_BIT_LENGTH.has(atomTag) && bytes.length >= 5) {
    length = bytes.readUInt16BE(3);
    start = 5;
  } else if (ATOM_TAGS_WITH_8_BIT_LENGTH.has(atomTag) && bytes.length >= 4) {
    length = bytes[3] ?? 0;
    start = 4;
  } else {
    return undefined;
  }
  if (length === 0 || start + length > bytes.length) return undefined;
  return bytes.subarray(start, start + length).toString("utf8");
}
