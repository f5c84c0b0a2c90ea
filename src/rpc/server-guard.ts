import type { FibrpcError } from "../errors.ts";
import type { Link } from "./link.ts";
import { noServerError, presenceOf, watchServer } from "./server-presence.ts";

/**
 * Keeps an engine from waiting for replies that cannot come: once the broker has confirmed what
 * was sent it looks at the queue (a look before sending could not tell an idle queue from an
 * electing one), and while requests wait it keeps looking (see watchServer). When no worker is
 * there it says so once, with the reason (a stream is named as one), and refuses what is sent
 * until a worker is back.
 */
export class ServerGuard {
  private gone: FibrpcError | undefined;
  private stopWatching: () => void = () => {};

  constructor(
    private readonly queue: string,
    private readonly currentLink: () => Link | undefined,
    /** Told when the queue is found without a worker: what waits should fail with `error`. */
    private readonly onGone: (error: FibrpcError) => void,
  ) {}

  /** Set while no worker is there: what a request sent now would fail with at once. */
  get refusal(): FibrpcError | undefined {
    return this.gone;
  }

  /** Once the broker has confirmed what was sent on `link`: requests waiting with no consumer mean no server. */
  async verifyAfterConfirm(link: Link): Promise<void> {
    const state = await link
      .confirmed()
      .then(() => link.inspectQueue(this.queue))
      .catch(() => undefined); // a lost link is reported on its own
    if (state !== undefined && presenceOf(state) === "absent") await this.declareGone(noServerError(this.queue, state));
  }

  /** Looks at the queue while `waiting()` says requests wait (or while a worker is missing). */
  watch(waiting: () => boolean): void {
    this.stopWatching = watchServer(
      (queue) => {
        const link = this.currentLink();
        return link === undefined ? Promise.reject(new Error("not connected")) : link.inspectQueue(queue);
      },
      this.queue,
      () => waiting() || this.gone !== undefined,
      (gone) => {
        if (gone === undefined) this.gone = undefined;
        else if (this.gone === undefined) void this.declareGone(gone); // said once, until a worker is back
      },
    );
  }

  stop(): void {
    this.stopWatching();
  }

  private async declareGone(absent: FibrpcError): Promise<void> {
    const link = this.currentLink();
    const explained = link === undefined ? absent : await link.explainAbsence(this.queue, absent);
    this.gone = explained;
    this.onGone(explained);
  }
}
