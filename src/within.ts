/** Largest delay a JavaScript timer can hold (2^31 - 1 ms, about 24.8 days); a larger one fires at once. */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * Waits for `work` at most `ms`: resolves with its value, or with `undefined` when the time ran
 * out first. Unlike `Promise.race([work, Bun.sleep(ms)])`, the timer is cleared as soon as the
 * race is decided, so it neither keeps the process alive nor fires into a finished operation.
 * `work` is not cancelled: whoever gave it decides what a late result means.
 */
export async function within<T>(work: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeUp = new Promise<undefined>((resolve) => {
    timer = setTimeout(resolve, Math.min(Math.max(0, ms), MAX_TIMER_MS), undefined);
  });
  try {
    return await Promise.race([work, timeUp]);
  } finally {
    clearTimeout(timer);
  }
}
