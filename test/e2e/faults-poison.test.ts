import "../support/preflight.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import amqp, { type ConsumeMessage, type Options } from "amqplib";
import { BROKER_URL, deleteQueue, eventually, uniqueQueue } from "../support/broker.ts";
import { deadNodeReplyTo } from "../support/direct-reply-to.ts";
import { runFibrpc, ServeProcess, serveDuringSuite } from "../support/fibrpc.ts";
import { queueSettled } from "../support/rabbitmqctl.ts";

const DIRECT = "amq.rabbitmq.reply-to";
/** A password nothing else uses: any output containing it is a leak. */
const SECRET = `leak-${crypto.randomUUID()}`;
const USER = `fibrpc-faults-${process.pid}`;
const SECRET_URL = BROKER_URL.replace(/\/\/[^@]*@/, `//${USER}:${SECRET}@`);
const captured: string[] = [];

async function rabbitmqctl(...args: string[]): Promise<void> {
  const proc = Bun.spawn(["rabbitmqctl", ...args], { stdout: "ignore", stderr: "ignore" });
  await proc.exited;
}

interface Request {
  label: string;
  body: Buffer;
  properties: Options.Publish;
  /** The error code the reply must carry; "ok" for a number; "none" when no reply can or may come. */
  expect: string;
}

/** `replyTo: null` sends the request without any reply_to property. */
const request = (label: string, body: string | Buffer, expect: string, properties: Options.Publish = {}, replyTo: string | null = DIRECT): Request => ({
  label,
  body: typeof body === "string" ? Buffer.from(body) : body,
  properties: { correlationId: label, ...(replyTo === null ? {} : { replyTo }), ...properties },
  expect,
});

/** Malformed bodies and odd properties, as a buggy or hostile client would publish them. */
function corpus(): Request[] {
  const secondsAgo = (seconds: number) => Math.floor(Date.now() / 1000) - seconds;
  return [
    request("empty", "", "INVALID_ARGUMENT"),
    request("negative", "-1", "INVALID_ARGUMENT"),
    request("fraction", "3.5", "INVALID_ARGUMENT"),
    request("exponent", "1e3", "INVALID_ARGUMENT"),
    request("hex", "0x10", "INVALID_ARGUMENT"),
    request("whitespace", " 30\n", "INVALID_ARGUMENT"),
    request("not-utf8", Buffer.from([0xc3, 0x28, 0x33]), "INVALID_ARGUMENT"),
    request("megabyte", "7".repeat(1_000_000), "INVALID_ARGUMENT"),
    request("over-max-n", "5001", "OUT_OF_RANGE"),
    request("huge-number", "99999999999999999999", "OUT_OF_RANGE"),
    request("octet-stream", "12", "ok", { contentType: "application/octet-stream", contentEncoding: "gzip" }),
    request("json-type", '{"n":12}', "INVALID_ARGUMENT", { contentType: "application/json" }),
    request("odd-headers", "12", "ok", { headers: { "x-nested": { deep: [1, "two", null] }, "x-error-code": "FAKE" }, type: "error" }),
    request("priority-and-ttl", "12", "ok", { priority: 9, expiration: "60000" }),
    request("no-reply-to", "12", "none", {}, null),
    request("reply-nowhere", "12", "none", { replyTo: `no-such-queue-${crypto.randomUUID()}` }),
    request("reply-to-invalid-direct", "12", "none", { replyTo: "amq.rabbitmq.reply-to.g2dkAA5yYWJiaXRAbm9ib2R5AAAAAAAAAAAA" }),
    request("reply-to-bare-direct", "12", "none", { replyTo: "amq.rabbitmq.reply-to.garbage" }),
    // Addresses RabbitMQ 3.10 closes the publisher's whole connection over (541): the worker checks them first.
    request("reply-to-garbled-direct", "12", "none", { replyTo: "amq.rabbitmq.reply-to.nonsense.abc" }),
    request("reply-to-dead-node", "12", "none", { replyTo: deadNodeReplyTo() }),
    // Expired a minute before it was taken: acked, not computed, no answer.
    request("expired", "4000", "none", { timestamp: secondsAgo(120), expiration: "60000" }),
    request("good", "30", "ok"),
  ];
}

describe("poison and malformed requests (worker logs in as a user with a unique password)", () => {
  beforeAll(async () => {
    await rabbitmqctl("add_user", USER, SECRET);
    await rabbitmqctl("set_permissions", "-p", "/", USER, ".*", ".*", ".*");
  }, 30_000);
  afterAll(async () => {
    await rabbitmqctl("delete_user", USER);
  }, 30_000);
  // Classic, so that rabbitmqctl's unacked count is current (see queueTotals).
  const suite = serveDuringSuite("poison", ["--max-n", "5000", "--prefetch", "8", "--log-level", "debug", "--queue-type", "classic"], {
    env: { AMQP_URL: SECRET_URL },
  });
  const { queue } = suite;

  test("each is answered or dropped exactly once, the queue drains, good requests still answered", async () => {
    const requests = corpus();
    // A correlation-less request is answered too, but without an id to match: counted apart.
    requests.push({ label: "no-correlation-id", body: Buffer.from("12"), properties: { replyTo: DIRECT }, expect: "uncorrelated" });
    const connection = await amqp.connect(BROKER_URL);
    const replies = new Map<string, ConsumeMessage[]>();
    let uncorrelated = 0;
    try {
      const channel = await connection.createConfirmChannel();
      await channel.consume(
        DIRECT,
        (message) => {
          if (message === null) return;
          const id = message.properties.correlationId;
          if (typeof id !== "string" || id === "") uncorrelated++;
          else replies.set(id, [...(replies.get(id) ?? []), message]);
        },
        { noAck: true },
      );
      for (const { body, properties } of requests) channel.sendToQueue(queue, body, properties);
      await channel.waitForConfirms();
      const answerable = requests.filter((entry) => entry.expect !== "none" && entry.expect !== "uncorrelated").length;
      expect(await eventually(() => replies.size >= answerable && uncorrelated >= 1, 10_000)).toBe(true);
      // Every request acked (none ready, none unacked: a requeue loop never gets there), then one more
      // request: its answer comes after every reply published before it, a duplicate included.
      expect(await eventually(() => queueSettled(queue), 10_000, 200)).toBe(true);
      channel.sendToQueue(queue, Buffer.from("20"), { correlationId: "sentinel", replyTo: DIRECT });
      expect(await eventually(() => replies.has("sentinel"), 10_000)).toBe(true);
    } finally {
      await connection.close();
    }

    for (const entry of requests) {
      const got = replies.get(entry.label) ?? [];
      if (entry.expect === "none" || entry.expect === "uncorrelated") {
        expect({ label: entry.label, replies: got.length }).toEqual({ label: entry.label, replies: 0 });
      } else if (entry.expect === "ok") {
        expect({ label: entry.label, replies: got.length, type: got[0]?.properties.type }).toEqual({ label: entry.label, replies: 1, type: undefined });
      } else {
        expect({ label: entry.label, replies: got.length, code: got[0]?.properties.headers?.["x-error-code"] }).toEqual({
          label: entry.label,
          replies: 1,
          code: entry.expect,
        });
      }
    }
    expect(uncorrelated).toBe(1);
    expect(replies.get("good")?.[0]?.content.toString()).toBe("832040");
    expect(replies.get("octet-stream")?.[0]?.content.toString()).toBe("144");
    // Acked exactly once each: a double ack or an unknown tag would have closed the worker's channel.
    const serve = suite.serve;
    expect(serve.log).not.toMatch(/channel closed|PRECONDITION|connection lost/);
    expect(serve.log).toMatch(/without reply_to/);
    expect(serve.log).toMatch(/expired before it was taken; acked, not computed \(correlation id expired\)/);
    const after = await runFibrpc(["call", "40", "--queue", queue]);
    expect(after.stdout).toBe("102334155\n");
  }, 30_000);

  test("the unique password appears in no output: serve logs, call errors, --help, refused logins", async () => {
    const down = `amqp://${USER}:${SECRET}@127.0.0.1:41999`;
    const wrong = BROKER_URL.replace(/\/\/([^:]+):[^@]*@/, `//$1:${SECRET}@`);
    const results = await Promise.all([
      runFibrpc(["call", "30", "--queue", queue], { env: { AMQP_URL: SECRET_URL } }),
      runFibrpc(["call", "30", "--queue", `${queue}-missing`, "--url", SECRET_URL]),
      runFibrpc(["call", "30", "--url", down]),
      runFibrpc(["call", "30", "--url", wrong]),
      runFibrpc(["serve", "--url", wrong, "--queue", queue]),
      runFibrpc(["call", "--help"], { env: { AMQP_URL: SECRET_URL } }),
      runFibrpc(["serve", "--help", "--url", SECRET_URL]),
      runFibrpc(["call", "30", "--url", `amqp://${USER}:${SECRET}@no-such-host.invalid:5672`]),
    ]);
    for (const result of results) captured.push(result.stdout, result.stderr);
    expect(results.map((result) => result.code)).toEqual([0, 3, 5, 6, 6, 0, 0, 5]);
    // A worker that cannot reach its broker says so once, URL shown with the password hidden.
    const outage = await runFibrpc(["serve", "--url", down, "--queue", queue], { timeoutMs: 1500 });
    captured.push(outage.stderr, suite.serve.log);
    expect(outage.stderr.match(/retrying with backoff/g)?.length).toBe(1);
    const leaks = captured.filter((text) => text.includes(SECRET));
    expect(leaks).toEqual([]);
    expect(suite.serve.log).toContain(`${USER}:***@`);
  }, 30_000);
});

describe("the queue deleted under a running worker", () => {
  test("it declares the queue again on a new channel and goes on answering", async () => {
    const queue = uniqueQueue("deleted");
    const worker = await ServeProcess.start(["--queue", queue]);
    try {
      await deleteQueue(queue);
      expect(await worker.waitForLog(/was deleted; opening a new channel/, 5000)).toBe(true);
      expect(await eventually(async () => (await runFibrpc(["call", "30", "--queue", queue])).code === 0, 5000)).toBe(true);
      expect(await worker.stop()).toBe(0);
    } finally {
      await worker.stop("SIGKILL");
      await deleteQueue(queue);
    }
  });
});
