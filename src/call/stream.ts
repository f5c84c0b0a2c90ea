import { FibrpcError, UsageError } from "../errors.ts";
import { callOutcome, requestBody } from "../rpc/calls.ts";
import type { RequestEngine } from "../rpc/request-engine.ts";
import { jsonLine, plainLine, type Answer } from "./format.ts";
import { readLines, type InputLine } from "./lines.ts";
import { parseCallN } from "./parse-n.ts";

export interface StreamOptions {
  engine: RequestEngine;
  input: ReadableStream<Uint8Array>;
  /** Writes to stdout; resolves when the text is handed over (its backpressure is ours), rejects when it cannot be. */
  write: (text: string) => Promise<void>;
  /** Lines read and not yet written at any time: the bound on requests in flight and on memory. */
  window: number;
  json: boolean;
  timeoutMs: number;
  /** Stops reading; what was answered so far is still written. */
  stop: AbortSignal;
}

/** The first failure in input order (which decides the exit code), if any. */
export interface StreamResult {
  firstFailure: (Answer & { ok: false; line: number }) | undefined;
}

/**
 * `fibrpc call -`: one request per input line through one engine, at most `window` lines
 * between read and written, answers written in input order as soon as they and every earlier
 * one are in. Plain output stops before the first failure (line i of stdout is always the
 * answer to input line i); --json goes on to the end of the input, one object per line.
 */
export async function streamCalls(options: StreamOptions): Promise<StreamResult> {
  const stream = new CallStream(options);
  await stream.run();
  return { firstFailure: stream.firstFailure };
}

class CallStream {
  /** Settled answers waiting for every earlier line to be written. */
  private readonly settled = new Map<number, Answer>();
  private nextToWrite = 1;
  /** Lines read and not yet written. */
  private occupied = 0;
  private slotFreed: PromiseWithResolvers<void> | undefined;
  /** Plain output ends before this line: the first failure seen so far. */
  private stopBefore = Number.POSITIVE_INFINITY;
  private linesRead = 0;
  private flushing: Promise<void> | undefined;
  private flushAgain = false;
  private writeFailure: unknown;
  /** Set when the stream has returned: requests failed by the engine's close are not news. */
  private ended = false;
  firstFailure: (Answer & { ok: false; line: number }) | undefined;

  constructor(private readonly options: StreamOptions) {}

  async run(): Promise<void> {
    const { stop } = this.options;
    const onStop = (): void => this.slotFreed?.resolve();
    stop.addEventListener("abort", onStop, { once: true });
    try {
      await this.readAll();
      await this.flushUntil(() => this.nextToWrite > Math.min(this.linesRead, this.stopBefore - 1) || this.stopped());
    } finally {
      stop.removeEventListener("abort", onStop);
      this.ended = true;
    }
    if (this.writeFailure !== undefined) throw this.writeFailure;
  }

  private stopped(): boolean {
    return this.options.stop.aborted || this.writeFailure !== undefined;
  }

  private async readAll(): Promise<void> {
    for await (const lines of readLines(this.options.input, this.options.stop)) {
      for (const line of lines) {
        // A failure ends plain output: nothing read after it could be printed.
        if (this.stopped() || (!this.options.json && line.number >= this.stopBefore)) return;
        while (this.occupied >= this.options.window) {
          this.slotFreed = Promise.withResolvers();
          await this.slotFreed.promise;
          if (this.stopped()) return;
        }
        this.occupied++;
        this.linesRead = line.number;
        this.dispatch(line);
      }
    }
  }

  private dispatch(line: InputLine): void {
    let n: number;
    try {
      if (line.truncated) throw new UsageError(`invalid n '${line.text.slice(0, 20)}…': the line is too long`);
      if (line.text === "") throw new UsageError("empty line: expected a non-negative decimal integer");
      n = parseCallN(line.text);
    } catch (error) {
      if (!(error instanceof FibrpcError)) throw error;
      this.settle({ line: line.number, ok: false, error: new UsageError(`line ${line.number}: ${error.message}`) });
      return;
    }
    this.options.engine.send(requestBody(n), (outcome) => this.settle({ ...callOutcome(n, outcome), line: line.number }), Date.now() + this.options.timeoutMs);
  }

  private settle(answer: Answer & { line: number }): void {
    if (this.ended) return;
    if (!answer.ok) {
      if (this.firstFailure === undefined || answer.line < this.firstFailure.line) this.firstFailure = answer;
      if (!this.options.json) this.stopBefore = Math.min(this.stopBefore, answer.line);
    }
    this.settled.set(answer.line, answer);
    void this.flush();
  }

  /** Writes every answer that is next in line, in one write; frees their slots once written. */
  private flush(): Promise<void> {
    if (this.flushing !== undefined) {
      this.flushAgain = true;
      return this.flushing;
    }
    this.flushing = this.writeReady().finally(() => {
      this.flushing = undefined;
      if (this.flushAgain) {
        this.flushAgain = false;
        void this.flush();
      }
    });
    return this.flushing;
  }

  private async writeReady(): Promise<void> {
    let text = "";
    let written = 0;
    for (;;) {
      const answer = this.settled.get(this.nextToWrite);
      if (answer === undefined || (!this.options.json && this.nextToWrite >= this.stopBefore)) break;
      this.settled.delete(this.nextToWrite);
      this.nextToWrite++;
      written++;
      text += this.options.json ? jsonLine(answer) : answer.ok ? plainLine(answer) : "";
    }
    if (written === 0) return;
    if (text !== "" && this.writeFailure === undefined) {
      await this.options.write(text).catch((error: unknown) => {
        this.writeFailure = error;
      });
    }
    this.occupied -= written;
    this.slotFreed?.resolve();
  }

  /** Waits, as answers are written, until `done` says enough. */
  private async flushUntil(done: () => boolean): Promise<void> {
    while (!done()) {
      this.slotFreed = Promise.withResolvers();
      await this.slotFreed.promise;
    }
  }
}
