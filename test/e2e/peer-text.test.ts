/**
 * Text from a peer is escaped before it reaches a terminal or a log line: a hostile worker's
 * error reply (code and message full of control sequences) through call, health and bench, and
 * a hostile request's correlation id through serve's log.
 */
import "../support/preflight.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import amqp, { type ChannelModel } from "amqplib";
import { BROKER_URL, deleteQueue, uniqueQueue, withChannel } from "../support/broker.ts";
import { runFibrpc, serveDuringSuite } from "../support/fibrpc.ts";

const HOSTILE_CODE = "\u001b]0;pwned\u0007";
const HOSTILE_MESSAGE = "bad\nfibrpc: all is well\r\u001b[2K\u009b31mred\u202e";
/** Anything a terminal would obey: C0 controls but the newline ending a line, DEL, C1, bidi overrides. */
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/;

describe("a hostile worker's error reply", () => {
  const queue = uniqueQueue("peer-text");
  let connection: ChannelModel | undefined;

  beforeAll(async () => {
    connection = await amqp.connect(BROKER_URL);
    connection.on("error", () => {});
    const channel = await connection.createChannel();
    await channel.assertQueue(queue, { durable: false });
    await channel.consume(queue, (message) => {
      if (message === null) return;
      channel.sendToQueue(message.properties.replyTo, Buffer.from(JSON.stringify({ error: { code: HOSTILE_CODE, message: HOSTILE_MESSAGE } })), {
        correlationId: message.properties.correlationId,
        type: "error",
        contentType: "application/json",
        headers: { "x-error-code": HOSTILE_CODE },
      });
      channel.ack(message);
    });
  });

  afterAll(async () => {
    await connection?.close().catch(() => {});
    await deleteQueue(queue);
  });

  test("call: one escaped line on stderr", async () => {
    const result = await runFibrpc(["call", "5", "--queue", queue]);
    expect(result.code).toBe(1);
    expect(result.stderr).not.toMatch(RAW_CONTROL);
    expect(result.stderr.split("\n")).toEqual(["fibrpc: n=5: server error \\x1b]0;pwned\\x07: bad\\nfibrpc: all is well\\r\\x1b[2K\\u009b31mred\\u202e", ""]);
  });

  test("call --json: the error's code and message escaped, the line still JSON", async () => {
    const result = await runFibrpc(["call", "5", "--queue", queue, "--json"]);
    expect(result.stdout).not.toMatch(RAW_CONTROL);
    expect(JSON.parse(result.stdout)).toMatchObject({ n: 5, ok: false, error: { code: "\\x1b]0;pwned\\x07" } });
  });

  test("health: the status line on stdout stays one escaped line", async () => {
    const result = await runFibrpc(["health", "--queue", queue]);
    expect(result.code).toBe(2);
    expect(result.stdout).not.toMatch(RAW_CONTROL);
    expect(result.stdout.split("\n").filter(Boolean)).toHaveLength(1);
    expect(result.stdout).toContain("bad fibrpc: all is well\\r\\x1b[2K");
  });

  test("bench: the error codes of its summary escaped", async () => {
    const result = await runFibrpc(["bench", "--queue", queue, "--requests", "3"]);
    expect(result.code).toBe(1);
    expect(result.stdout + result.stderr).not.toMatch(RAW_CONTROL);
    expect(result.stdout).toContain("errors   \\x1b]0;pwned\\x07 3");
  });
});

describe("a hostile request", () => {
  const worker = serveDuringSuite("peer-text-serve");

  test("serve's log line about it stays one escaped line", async () => {
    const hostileId = "id\nfibrpc: forged\u001b[31m";
    await withChannel(async (_channel, connection) => {
      const confirmed = await connection.createConfirmChannel();
      confirmed.sendToQueue(worker.queue, Buffer.from("30"), { correlationId: hostileId }); // no reply_to: logged
      await confirmed.waitForConfirms();
    });
    const { serve } = worker;
    expect(await serve.waitForLog(/correlation id id/)).toBe(true);
    const line = serve.log.split("\n").find((entry) => entry.includes("correlation id id")) ?? "";
    expect(line).toContain("correlation id id\\nfibrpc: forged\\x1b[31m");
    expect(serve.log).not.toMatch(RAW_CONTROL);
    expect(serve.log).not.toMatch(/^fibrpc: forged/m);
  });
});
