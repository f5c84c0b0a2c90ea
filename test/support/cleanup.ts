import { afterEach } from "bun:test";

type Closer = () => unknown;

/**
 * Collects what a test started (workers, connections, queues) and stops it after the test,
 * passed or failed, last started first. A failing assertion then leaves no `fibrpc serve`
 * reconnecting forever behind it. Call inside `describe`; the returned function registers one
 * closer. A closer that throws does not stop the others.
 */
export function cleanupAfterEach(): (closer: Closer) => void {
  const closers: Closer[] = [];
  afterEach(async () => {
    for (const closer of closers.splice(0).reverse()) {
      try {
        await closer();
      } catch {
        // Cleaning up after a failure: the original failure is the one to report.
      }
    }
  });
  return (closer) => {
    closers.push(closer);
  };
}
