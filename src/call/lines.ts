/** One input line: its 1-based number and its text, trimmed of surrounding whitespace (a trailing \r included). */
export interface InputLine {
  number: number;
  text: string;
  /** The line was longer than anything worth keeping: `text` holds only its start. */
  truncated: boolean;
}

/** No n has more digits than this; the rest of an overlong line is dropped unread, so memory stays bounded. */
export const MAX_KEPT_LINE = 4096;

/**
 * Splits a byte stream into lines, reading the next chunk only when asked for more: a caller
 * that waits (for a free slot in its window) leaves the rest of the input in the pipe.
 * Yields the lines of each chunk as one array, to spare a promise per line.
 */
export async function* readLines(input: ReadableStream<Uint8Array>, stop?: AbortSignal): AsyncGenerator<InputLine[]> {
  const decoder = new TextDecoder();
  let number = 0;
  const take = (text: string, cut: boolean): InputLine => {
    number++;
    const truncated = cut || text.length > MAX_KEPT_LINE;
    return { number, text: (truncated ? text.slice(0, MAX_KEPT_LINE) : text).trim(), truncated };
  };
  // The unfinished last line of what was read so far, and whether its start alone was kept.
  let partial = "";
  let partialCut = false;
  for await (const chunk of chunksOf(input, stop)) {
    const parts = (partial + decoder.decode(chunk, { stream: true })).split("\n");
    partial = parts.pop() ?? "";
    if (parts.length > 0) {
      yield parts.map((part, index) => take(part, index === 0 && partialCut));
      partialCut = false;
    }
    if (partial.length > MAX_KEPT_LINE) {
      partial = partial.slice(0, MAX_KEPT_LINE);
      partialCut = true;
    }
  }
  const rest = partial + decoder.decode();
  if (rest.length > 0 || partialCut) yield [take(rest, partialCut)];
}

/** The stream's chunks until it ends or `stop` aborts (a read waiting on a quiet pipe is cancelled). */
async function* chunksOf(input: ReadableStream<Uint8Array>, stop: AbortSignal | undefined): AsyncGenerator<Uint8Array> {
  const reader = input.getReader();
  const cancel = (): void => void reader.cancel().catch(() => {});
  stop?.addEventListener("abort", cancel, { once: true });
  try {
    while (stop?.aborted !== true) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    stop?.removeEventListener("abort", cancel);
    reader.releaseLock();
  }
}
