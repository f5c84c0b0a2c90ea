import "../support/preflight.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { declareQueue, deleteQueue, queueState, uniqueQueue } from "../support/broker.ts";
import { runFibrpc, serveDuringSuite } from "../support/fibrpc.ts";
import { runTutorialClient, TutorialServer, type QueueKind } from "../support/tutorial.ts";

/**
 * On the wire with an independent implementation of the tutorial contract (Python, pika), both
 * directions, on a queue another program declared first: the seed's plain classic queue and the
 * current tutorials' durable quorum queue.
 */
const F1000_DIGITS = 209;

for (const kind of ["classic", "quorum"] as const satisfies readonly QueueKind[]) {
  describe(`fibrpc call against the tutorial server (${kind} queue)`, () => {
    const queue = uniqueQueue(`interop-server-${kind}`);
    let server: TutorialServer;

    beforeAll(async () => {
      await declareQueue(queue, kind);
      server = await TutorialServer.start(queue, kind);
    });
    afterAll(async () => {
      await server.stop();
      await deleteQueue(queue);
    });

    test("call 30 prints 832040", async () => {
      expect(await runFibrpc(["call", "30", "--queue", queue])).toMatchObject({ code: 0, stdout: "832040\n", stderr: "" });
    });

    test("several n, pipelined, come back in argument order", async () => {
      const result = await runFibrpc(["call", "1000", "0", "93", "1", "--queue", queue]);
      expect(result.code).toBe(0);
      const lines = result.stdout.trimEnd().split("\n");
      expect(lines[0]).toHaveLength(F1000_DIGITS);
      expect(lines.slice(1)).toEqual(["0", "12200160415121876738", "1"]);
    });

    test("through an exclusive reply queue and as JSON", async () => {
      const result = await runFibrpc(["call", "20", "--queue", queue, "--reply-queue", "exclusive", "--json"]);
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout)).toEqual({ n: 20, ok: true, value: "6765", trace_id: expect.stringMatching(/^[0-9a-f]{32}$/) });
    });
  });

  describe(`the tutorial client against fibrpc serve (${kind} queue)`, () => {
    const suite = serveDuringSuite(`interop-client-${kind}`, [], { declare: kind });
    const { queue } = suite;

    test("adopts the queue as the other program declared it", () => {
      expect(suite.serve.log).not.toContain("PRECONDITION_FAILED");
      expect(suite.serve.log).not.toContain("declared it");
      expect(suite.serve.log).toContain(`consuming on queue '${queue}'`);
    });

    test("answers 30, 0, 1, 93 and 1000 exactly", async () => {
      const result = await runTutorialClient(queue, ["30", "0", "1", "93", "1000"]);
      expect(result.code).toBe(0);
      const lines = result.stdout.trimEnd().split("\n");
      expect(lines.slice(0, 4)).toEqual(["832040", "0", "1", "12200160415121876738"]);
      expect(lines[4]).toHaveLength(F1000_DIGITS);
    });

    test("a malformed request gets an error reply the tutorial client can tell apart", async () => {
      const result = await runTutorialClient(queue, ["abc", "-1", "12"]);
      expect(result.code).toBe(0);
      const [invalid, negative, good] = result.stdout.trimEnd().split("\n");
      expect(invalid).toStartWith("error ");
      expect(JSON.parse(invalid!.slice("error ".length))).toMatchObject({ error: { code: "INVALID_ARGUMENT" } });
      expect(negative).toContain("INVALID_ARGUMENT");
      expect(good).toBe("144");
      expect((await queueState(queue))?.messageCount).toBe(0);
    });
  });
}
