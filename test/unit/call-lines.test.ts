import { describe, expect, test } from "bun:test";
import { MAX_KEPT_LINE, readLines, type InputLine } from "../../src/call/lines.ts";

function streamOf(chunks: (string | Uint8Array)[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk);
      controller.close();
    },
  });
}

async function allLines(chunks: (string | Uint8Array)[]): Promise<InputLine[]> {
  const found: InputLine[] = [];
  for await (const batch of readLines(streamOf(chunks))) found.push(...batch);
  return found;
}

describe("readLines", () => {
  test("numbers lines from 1, trims whitespace and CR, keeps empty lines, and a last line without newline", async () => {
    expect(await allLines([" 1 \r\n", "\n", "\t3\r\n4"])).toEqual([
      { number: 1, text: "1", truncated: false },
      { number: 2, text: "", truncated: false },
      { number: 3, text: "3", truncated: false },
      { number: 4, text: "4", truncated: false },
    ]);
  });

  test("a line split across chunks, even inside a multi-byte character, is one line", async () => {
    const bytes = new TextEncoder().encode("12\né3\n");
    expect((await allLines([bytes.slice(0, 1), bytes.slice(1, 4), bytes.slice(4)])).map((line) => line.text)).toEqual(["12", "é3"]);
  });

  test("an overlong line keeps only its start and says so, whether it came in one chunk or many", async () => {
    const long = "9".repeat(MAX_KEPT_LINE * 3);
    for (const chunks of [[`${long}\n5\n`], [long.slice(0, 5000), long.slice(5000), "\n5\n"], [long]]) {
      const found = await allLines(chunks);
      expect(found[0]).toMatchObject({ number: 1, truncated: true });
      expect(found[0]?.text.length).toBe(MAX_KEPT_LINE);
      if (found.length > 1) expect(found[1]).toEqual({ number: 2, text: "5", truncated: false });
    }
  });

  test("no input, no lines", async () => {
    expect(await allLines([])).toEqual([]);
  });
});

describe("readLines: edges", () => {
  test("a line of exactly the kept length is whole", async () => {
    const exact = "7".repeat(MAX_KEPT_LINE);
    expect(await allLines([`${exact}\n`])).toEqual([{ number: 1, text: exact, truncated: false }]);
    expect(await allLines([exact, "\n5\n"])).toEqual([
      { number: 1, text: exact, truncated: false },
      { number: 2, text: "5", truncated: false },
    ]);
  });

  test("an abort ends the lines even while a read waits on an input that stays open (the read is cancelled)", async () => {
    const stop = new AbortController();
    const open = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode("1\n"));
      },
    });
    const lines = readLines(open, stop.signal);
    expect((await lines.next()).value).toEqual([{ number: 1, text: "1", truncated: false }]);
    const waiting = lines.next(); // reads on: nothing comes
    stop.abort();
    expect(await waiting).toEqual({ done: true, value: undefined });
  });
});
