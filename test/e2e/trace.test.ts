/** W3C Trace Context across the queue: call puts it on each request, workers continue it. */
import "../support/preflight.ts";
import { describe, expect, test } from "bun:test";
import { deleteQueue, eventually, uniqueQueue } from "../support/broker.ts";
import { runFibrpc, ServeProcess } from "../support/fibrpc.ts";
import { TutorialServer } from "../support/tutorial.ts";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`;
const fields = (traceparent: string) => traceparent.split("-");
const jsonLines = (text: string) =>
  text
    .trimEnd()
    .split("\n")
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe("trace context from call", () => {
  test("TRACEPARENT set: an independent pika server sees the same trace id, with a span id of call's own; --json prints the trace id", async () => {
    const queue = uniqueQueue("trace-pika");
    const server = await TutorialServer.start(queue, "quorum");
    try {
      const result = await runFibrpc(["call", "10", "11", "--queue", queue, "--json"], { env: { TRACEPARENT: PARENT, TRACESTATE: "vendor=abc" } });
      expect(result.code).toBe(0);
      expect(jsonLines(result.stdout).map((line) => line.trace_id)).toEqual([TRACE_ID, TRACE_ID]);
      expect(await eventually(() => server.traceparents.length === 2)).toBe(true);
      for (const seen of server.traceparents) {
        const [version, traceId, spanId, flags] = fields(seen);
        expect({ version, traceId, flags }).toEqual({ version: "00", traceId: TRACE_ID, flags: "01" });
        expect(spanId).toMatch(/^[0-9a-f]{16}$/);
        expect(spanId).not.toBe("00f067aa0ba902b7"); // a child span, not the parent's
      }
    } finally {
      await server.stop();
      await deleteQueue(queue);
    }
  });

  test("no TRACEPARENT, or a malformed one: a fresh trace per request, never an error", async () => {
    const queue = uniqueQueue("trace-fresh");
    const server = await TutorialServer.start(queue, "quorum");
    try {
      for (const env of [{}, { TRACEPARENT: "00-not-a-trace-01" }, { TRACEPARENT: `00-${"0".repeat(32)}-00f067aa0ba902b7-01` }]) {
        const result = await runFibrpc(["call", "5", "6", "--queue", queue, "--json"], { env });
        expect(result.code).toBe(0);
        const ids = jsonLines(result.stdout).map((line) => line.trace_id);
        expect(ids).toHaveLength(2);
        for (const id of ids) expect(id).toMatch(/^[0-9a-f]{32}$/);
        expect(ids[0]).not.toBe(ids[1]);
      }
    } finally {
      await server.stop();
      await deleteQueue(queue);
    }
  });

  test("fibrpc serve continues the trace: its JSON log line for the request carries the caller's trace id", async () => {
    const queue = uniqueQueue("trace-serve");
    const serve = await ServeProcess.start(["--queue", queue, "--log-format", "json", "--log-level", "debug"]);
    try {
      const result = await runFibrpc(["call", "12", "--queue", queue], { env: { TRACEPARENT: PARENT } });
      expect(result).toMatchObject({ code: 0, stdout: "144\n" });
      expect(await serve.waitForLog(new RegExp(`"trace_id":"${TRACE_ID}"`))).toBe(true);
      const line = serve.log.split("\n").find((entry) => entry.includes(TRACE_ID)) ?? "";
      expect(JSON.parse(line)).toMatchObject({ trace_id: TRACE_ID, span_id: expect.stringMatching(/^[0-9a-f]{16}$/) });
    } finally {
      await serve.stop();
      await deleteQueue(queue);
    }
  });
});
