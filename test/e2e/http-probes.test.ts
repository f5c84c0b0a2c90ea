import "../support/preflight.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import amqp from "amqplib";
import { eventually, uniqueQueue } from "../support/broker.ts";
import { probe, scrape, startHttpServe } from "../support/http-serve.ts";
import { RabbitNode } from "../support/rabbit-node.ts";

/** The HTTP probe tests own ports 43000-43999 for their throwaway node. */
const PORTS: [number, number] = [43_000, 43_999];

describe("/readyz follows the worker, on a throwaway RabbitMQ node", () => {
  let node: RabbitNode;

  beforeAll(async () => {
    node = await RabbitNode.start({ label: "probes", portRange: PORTS });
  }, 60_000);
  afterAll(async () => {
    await node?.destroy();
  }, 30_000);

  test("503 while the broker is down, 200 again once the worker is back; /livez 200 throughout", async () => {
    const queue = uniqueQueue("outage");
    const { serve, base } = await startHttpServe(["--queue", queue], { AMQP_URL: node.url });
    try {
      expect(await probe(base, "/readyz")).toEqual({ status: 200, body: "ready: consuming\n" });
      await node.stopApp();
      expect(await serve.waitForLog(/connection lost/)).toBe(true);
      const down = await probe(base, "/readyz");
      expect(down).toEqual({ status: 503, body: "not ready: reconnecting to the broker\n" });
      expect(await probe(base, "/livez")).toEqual({ status: 200, body: "alive\n" });
      expect((await scrape(base)).get("fibrpc_broker_connected")).toBe(0);

      await node.startApp();
      expect(await eventually(async () => (await probe(base, "/readyz")).status === 200, 20_000, 100)).toBe(true);
      const after = await scrape(base);
      expect({ connected: after.get("fibrpc_broker_connected"), reconnects: after.get("fibrpc_reconnects_total") }).toEqual({ connected: 1, reconnects: 1 });
    } finally {
      expect(await serve.stop()).toBe(0);
    }
  }, 60_000);

  test("503 while draining: SIGTERM with requests in flight whose replies the broker holds back", async () => {
    // A memory alarm makes the broker stop reading from a connection once it publishes: the worker takes
    // the requests, its replies go unconfirmed, and its drain waits for them until the alarm clears.
    const queue = uniqueQueue("drain");
    const replies = uniqueQueue("drain-replies");
    const client = await amqp.connect(node.url);
    client.on("error", () => {});
    let alarmOn = false;
    try {
      const channel = await client.createConfirmChannel();
      await channel.assertQueue(queue, { durable: false });
      await channel.assertQueue(replies, { durable: false });
      for (const n of ["25", "26"]) channel.sendToQueue(queue, Buffer.from(n), { replyTo: replies, correlationId: n });
      await channel.waitForConfirms();
      await node.rabbitmqctl("set_vm_memory_high_watermark", "absolute", "1");
      alarmOn = true;

      const { serve, base } = await startHttpServe(["--queue", queue, "--prefetch", "2", "--drain-timeout", "60s"], { AMQP_URL: node.url });
      try {
        expect(await serve.waitForLog(/broker blocked this connection/)).toBe(true);
        expect(await eventually(async () => (await scrape(base)).get("fibrpc_in_flight") === 2)).toBe(true);
        expect((await probe(base, "/readyz")).status).toBe(200);

        serve.proc.kill("SIGTERM");
        expect(await serve.waitForLog(/shutting down/)).toBe(true);
        expect(await probe(base, "/readyz")).toEqual({ status: 503, body: "not ready: draining: shutting down, finishing requests in flight\n" });
        expect(await probe(base, "/livez")).toEqual({ status: 200, body: "alive\n" });
        const draining = await scrape(base);
        expect({ draining: draining.get("fibrpc_draining"), inFlight: draining.get("fibrpc_in_flight") }).toEqual({ draining: 1, inFlight: 2 });

        await node.rabbitmqctl("set_vm_memory_high_watermark", "0.4");
        alarmOn = false;
        expect(await serve.exited).toBe(0); // no second signal: that one would mean "exit at once"
        expect(serve.log).toContain("stopped: 2 in flight answered");
        expect((await channel.checkQueue(replies)).messageCount).toBe(2);
      } finally {
        await serve.stop("SIGKILL");
      }
    } finally {
      if (alarmOn) await node.rabbitmqctl("set_vm_memory_high_watermark", "0.4");
      await client.close().catch(() => {});
    }
  }, 60_000);
});
