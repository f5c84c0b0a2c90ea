import { describe, expect, test } from "bun:test";
import type { ChannelModel } from "amqplib";
import { coalesceWrites } from "../../src/rpc/write-coalescing.ts";

/** A stand-in for amqplib's socket that records what reaches it. */
function recordingModel(): { model: ChannelModel; sent: string[] } {
  const sent: string[] = [];
  const stream = {
    writableNeedDrain: false,
    write(chunk: unknown): boolean {
      sent.push(Buffer.isBuffer(chunk) ? chunk.toString() : `raw:${String(chunk)}`);
      return true;
    },
    end(): void {
      sent.push("<end>");
    },
  };
  return { model: { connection: { stream } } as unknown as ChannelModel, sent };
}

describe("coalesceWrites", () => {
  test("writes of one event-loop turn reach the socket as one buffer, at the end of the turn", async () => {
    const { model, sent } = recordingModel();
    expect(coalesceWrites(model)).toBe(true);
    const stream = (model as unknown as { connection: { stream: { write(chunk: unknown): boolean } } }).connection.stream;
    expect(stream.write(Buffer.from("a"))).toBe(true);
    stream.write(Buffer.from("b"));
    stream.write(Buffer.from("c"));
    expect(sent).toEqual([]);
    await Promise.resolve();
    expect(sent).toEqual(["abc"]);
    stream.write(Buffer.from("d"));
    await Promise.resolve();
    expect(sent).toEqual(["abc", "d"]);
  });

  test("anything else, and end(), flush what was gathered first so order is kept", async () => {
    const { model, sent } = recordingModel();
    coalesceWrites(model);
    const stream = (model as unknown as { connection: { stream: { write(chunk: unknown): boolean; end(): void } } }).connection.stream;
    stream.write(Buffer.from("a"));
    stream.write("text");
    stream.write(Buffer.from("b"));
    stream.end();
    expect(sent).toEqual(["a", "raw:text", "b", "<end>"]);
    await Promise.resolve();
    expect(sent).toEqual(["a", "raw:text", "b", "<end>"]);
  });

  test("applied twice is applied once; without amqplib's internals it changes nothing", () => {
    const { model } = recordingModel();
    expect(coalesceWrites(model)).toBe(true);
    expect(coalesceWrites(model)).toBe(true);
    expect(coalesceWrites({} as ChannelModel)).toBe(false);
  });
});
