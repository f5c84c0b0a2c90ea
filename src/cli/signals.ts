import { InterruptedError } from "../errors.ts";

export type StopSignal = "SIGINT" | "SIGTERM";

const controller = new AbortController();

/** Aborted on the first SIGINT/SIGTERM, with the signal's name as the reason. */
export const interruption: AbortSignal = controller.signal;

/**
 * First signal: abort `interruption` so the running command can wind down (serve drains,
 * call gives up). Second signal: the caller's `onSecond` exits at once.
 */
export function installSignalHandlers(onSecond: (signal: StopSignal) => void): void {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      if (controller.signal.aborted) onSecond(signal);
      else controller.abort(signal);
    });
  }
}

/** A promise that rejects with InterruptedError when the first signal arrives. */
export function rejectOnInterrupt(): Promise<never> {
  return new Promise<never>((_resolve, reject) => {
    const fail = (): void => reject(new InterruptedError(interruption.reason === "SIGINT" ? "SIGINT" : "SIGTERM"));
    if (interruption.aborted) fail();
    else interruption.addEventListener("abort", fail, { once: true });
  });
}
