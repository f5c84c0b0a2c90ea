import { InterruptedError, type StopSignal } from "../errors.ts";

const STOP_SIGNALS: readonly StopSignal[] = ["SIGINT", "SIGTERM", "SIGHUP"];

const controller = new AbortController();

/** Aborted on the first SIGINT, SIGTERM or SIGHUP, with the signal's name as the reason. */
export const interruption: AbortSignal = controller.signal;

/** The signal that aborted `interruption` (SIGTERM if asked before any arrived). */
export function stopSignal(): StopSignal {
  return STOP_SIGNALS.find((signal) => signal === interruption.reason) ?? "SIGTERM";
}

/**
 * First signal: abort `interruption` so the running command can wind down (serve drains,
 * call gives up). SIGHUP counts as one: a closed terminal or a supervisor's reload must not
 * kill a worker mid-request. Second signal: the caller's `onSecond` exits at once.
 */
export function installSignalHandlers(onSecond: (signal: StopSignal) => void): void {
  for (const signal of STOP_SIGNALS) {
    process.on(signal, () => {
      if (controller.signal.aborted) onSecond(signal);
      else controller.abort(signal);
    });
  }
}

/** A promise that rejects with InterruptedError when the first signal arrives. */
export function rejectOnInterrupt(): Promise<never> {
  return new Promise<never>((_resolve, reject) => {
    const fail = (): void => reject(new InterruptedError(stopSignal()));
    if (interruption.aborted) fail();
    else interruption.addEventListener("abort", fail, { once: true });
  });
}
