import "../support/preflight.ts";
import { describe, expect, test } from "bun:test";
import { openFailoverConnection } from "../../src/rpc/failover-connection.ts";
import { BROKER_URL, deleteQueue, uniqueQueue } from "../support/broker.ts";
import { startWorker } from "../support/in-process-worker.ts";

/** Nothing listens here (a port in the reliability range no test binds). */
const REFUSING = "amqp://guest:refused-secret@127.0.0.1:41998";
/** shuffledOrder keeps the listed order when every draw is the top of its range. */
const LISTED_ORDER = () => 0.999;

describe("failover connection over several nodes", () => {
  test("a refused node is passed over at once: the next listed node is tried with no backoff", async () => {
    const scheduled: number[] = [];
    const failed: string[] = [];
    let connectedTo: string | undefined;
    const failover = await openFailoverConnection(
      { urls: [REFUSING, BROKER_URL] },
      {
        random: LISTED_ORDER,
        setup: async () => {
          connectedTo = failover.nodeUrl;
        },
      },
    );
    failover.recovering.on("connect-failed", () => failed.push(failover.nodeUrl));
    failover.recovering.on("reconnect-scheduled", ({ delay }: { delay: number }) => scheduled.push(delay));
    try {
      await failover.recovering.waitForConnect();
      expect(failed).toEqual([REFUSING]);
      expect(scheduled).toEqual([0]);
      expect(connectedTo).toBe(BROKER_URL);
      expect(failover.nodeUrl).toBe(BROKER_URL);
    } finally {
      await failover.recovering.close();
    }
  });

  test("a worker given a list with a dead node serves through the live one and names it, password hidden", async () => {
    const queue = uniqueQueue("failover-list");
    const worker = await startWorker(queue, { broker: { urls: [REFUSING, BROKER_URL, REFUSING.replace("41998", "41997")] } });
    try {
      const connected = worker.log.matching(/^connected to /);
      expect(connected).toHaveLength(1);
      expect(connected[0]?.message).toContain(BROKER_URL.replace(/:[^:@/]*@/, ":***@"));
      expect(worker.log.entries.map((entry) => entry.message).join("\n")).not.toContain("refused-secret");
    } finally {
      await worker.stop();
      await deleteQueue(queue);
    }
  });
});
