import { describe, expect, jest, test } from "bun:test";
import { NoServerError } from "../../src/errors.ts";
import type { QueueState } from "../../src/rpc/broker.ts";
import { ABSENCE_GRACE_MS, awaitServer, decidedLook, PresenceJudge, presenceOf, watchServer } from "../../src/rpc/server-presence.ts";

const look = (messageCount: number, consumerCount: number) => ({ messageCount, consumerCount });

describe("presenceOf: what one look at a queue proves", () => {
  test("consumers mean a worker; no queue, or requests waiting with nobody taking them, mean none", () => {
    expect(presenceOf(look(0, 1))).toBe("present");
    expect(presenceOf(look(5, 2))).toBe("present");
    expect(presenceOf(null)).toBe("absent");
    expect(presenceOf(look(1, 0))).toBe("absent");
  });

  test("0 messages and 0 consumers is what a quorum queue reports during a leader election: undecided", () => {
    expect(presenceOf(look(0, 0))).toBe("undecided");
  });
});

describe("PresenceJudge", () => {
  test("impatient (before sending): a sure absence at once, an undecided one only after the grace", () => {
    const judge = new PresenceJudge(false);
    expect(judge.judge(look(3, 0), 0)).toBe("absent");
    const electing = new PresenceJudge(false);
    expect(electing.judge(look(0, 0), 1000)).toBe("undecided");
    expect(electing.judge(look(0, 0), 1000 + ABSENCE_GRACE_MS - 1)).toBe("undecided");
    expect(electing.judge(look(0, 0), 1000 + ABSENCE_GRACE_MS)).toBe("absent");
  });

  test("an election that ends with the workers still there is never a verdict", () => {
    const judge = new PresenceJudge(false);
    expect(judge.judge(look(0, 0), 0)).toBe("undecided");
    expect(judge.judge(look(0, 2), 600)).toBe("present");
    expect(judge.judge(look(0, 0), 700)).toBe("undecided"); // a new series starts
    expect(judge.judge(look(0, 0), 700 + ABSENCE_GRACE_MS - 1)).toBe("undecided");
  });

  test("patient (while requests wait): even a sure absence must last the grace (a worker restarting)", () => {
    const judge = new PresenceJudge(true);
    expect(judge.judge(look(2, 0), 0)).toBe("undecided");
    expect(judge.judge(null, ABSENCE_GRACE_MS / 2)).toBe("undecided");
    expect(judge.judge(look(2, 0), ABSENCE_GRACE_MS)).toBe("absent");
  });

  test("patient: 0 messages and 0 consumers is never a verdict, however long it lasts (our requests would show)", () => {
    const judge = new PresenceJudge(true);
    expect(judge.judge(look(0, 0), 0)).toBe("undecided");
    expect(judge.judge(look(0, 0), 10 * ABSENCE_GRACE_MS)).toBe("undecided");
  });

  test("reset forgets an old absence", () => {
    const judge = new PresenceJudge(true);
    judge.judge(look(1, 0), 0);
    judge.reset();
    expect(judge.judge(look(1, 0), 10 * ABSENCE_GRACE_MS)).toBe("undecided");
  });
});

/** Runs `work` under fake timers, moving the clock `stepMs` at a time until it settles. */
async function drive<T>(work: () => Promise<T>, stepMs = 50, maxSteps = 200): Promise<T> {
  jest.useFakeTimers({ now: 1_800_000_000_000 });
  try {
    let settled = false;
    const running = work().finally(() => {
      settled = true;
    });
    for (let step = 0; step < maxSteps && !settled; step++) {
      for (let turn = 0; turn < 10; turn++) await Promise.resolve();
      if (!settled) jest.advanceTimersByTime(stepMs);
    }
    return await running;
  } finally {
    jest.useRealTimers();
  }
}

/** An inspect function answering from a script of looks (the last one repeats), counting its calls. */
function scripted(...looks: (QueueState | null)[]): { inspect: (queue: string) => Promise<QueueState | null>; calls: () => number } {
  let calls = 0;
  return {
    inspect: async () => looks[Math.min(calls++, looks.length - 1)] ?? null,
    calls: () => calls,
  };
}

describe("awaitServer and decidedLook: before sending", () => {
  const soon = () => Date.now() + 10_000;

  test("'none' does not look at all", async () => {
    const queue = scripted(null);
    expect(await drive(() => awaitServer(queue.inspect, "q", "none", soon()))).toBe("undecided");
    expect(queue.calls()).toBe(0);
  });

  test("'fail-fast': a worker passes, a missing queue or one nobody takes from fails at once, naming which", async () => {
    await drive(() => awaitServer(scripted(look(0, 1)).inspect, "q", "fail-fast", soon()));
    const missing = scripted(null);
    await expect(drive(() => awaitServer(missing.inspect, "q", "fail-fast", soon()))).rejects.toThrow(new NoServerError("no server: queue 'q' does not exist"));
    expect(missing.calls()).toBe(1);
    await expect(drive(() => awaitServer(scripted(look(4, 0)).inspect, "q", "fail-fast", soon()))).rejects.toThrow("no server: queue 'q' has no consumer");
  });

  test("'fail-fast' looks once: an electing queue (0 and 0) is 'undecided', for the caller to judge", async () => {
    const electing = scripted(look(0, 0), look(0, 2));
    expect(await drive(() => awaitServer(electing.inspect, "q", "fail-fast", soon()))).toBe("undecided");
    expect(electing.calls()).toBe(1);
    expect(await drive(() => awaitServer(scripted(look(0, 1)).inspect, "q", "fail-fast", soon()))).toBe("present");
  });

  test("decidedLook returns the first decided look at once: a worker, or requests waiting with nobody to take them", async () => {
    for (const decided of [look(0, 1), look(2, 0), null]) {
      const queue = scripted(decided);
      expect(await drive(() => decidedLook(queue.inspect, "q", Date.now() + 10_000))).toEqual(decided);
      expect(queue.calls()).toBe(1);
    }
  });

  test("decidedLook gives up at the deadline with the last look: it looks every 100 ms while one more fits", async () => {
    const empty = scripted(look(0, 0));
    expect(await drive(() => decidedLook(empty.inspect, "q", Date.now() + 300))).toEqual(look(0, 0));
    expect(empty.calls()).toBe(4); // at 0, 100, 200 and 300 ms
  });

  test("'wait' polls until a worker appears, or says how long it waited", async () => {
    const late = scripted(null, null, look(3, 0), look(3, 1));
    expect(await drive(() => awaitServer(late.inspect, "q", "wait", soon()))).toBe("present");
    expect(late.calls()).toBe(4);
    const never = scripted(null);
    await expect(drive(() => awaitServer(never.inspect, "q", "wait", Date.now() + 1000))).rejects.toThrow(
      "no server: nothing consumed from queue 'q' within 1s",
    );
    expect(never.calls()).toBe(11); // every 100 ms up to the deadline, not one look past it
  });
});

describe("watchServer: while requests wait", () => {
  async function watch(looks: (QueueState | null | "fails")[], activeFor = Number.POSITIVE_INFINITY): Promise<string[]> {
    const verdicts: string[] = [];
    let calls = 0;
    await drive(async () => {
      const stop = watchServer(
        async () => {
          const next = looks[Math.min(calls++, looks.length - 1)];
          if (next === "fails") throw new Error("connection lost");
          return next ?? null;
        },
        "q",
        () => calls < activeFor,
        (gone) => verdicts.push(gone === undefined ? "back" : gone.message),
      );
      await Bun.sleep(3000);
      stop();
    });
    return verdicts;
  }

  test("a worker there is 'back'; every worker gone for the grace is no-server, said once per look after it", async () => {
    const verdicts = await watch([look(0, 1), look(2, 0)]);
    expect(verdicts[0]).toBe("back");
    expect(verdicts.slice(1)).toContain("no server: every worker left queue 'q' while the answer was awaited");
    expect(verdicts.filter((verdict) => verdict !== "back").length).toBeLessThanOrEqual(Math.ceil((3000 - ABSENCE_GRACE_MS) / 250) + 1);
  });

  test("a deleted queue is said so; a look that fails is no evidence either way", async () => {
    expect(await watch([null])).toContain("no server: queue 'q' was deleted while the answer was awaited");
    expect(await watch(["fails"])).toEqual([]);
  });

  test("it looks only while requests wait", async () => {
    expect(await watch([null], 0)).toEqual([]);
  });

  test("within the grace, a worker gone is no verdict yet", async () => {
    const verdicts: string[] = [];
    await drive(async () => {
      const stop = watchServer(
        async () => look(2, 0),
        "q",
        () => true,
        (gone) => verdicts.push(String(gone)),
      );
      await Bun.sleep(ABSENCE_GRACE_MS - 300);
      stop();
    });
    expect(verdicts).toEqual([]);
  });

  test("a slow look is not stacked on: one at a time; and stop stops the looking", async () => {
    let calls = 0;
    await drive(async () => {
      const stop = watchServer(
        () => {
          calls++;
          return new Promise<QueueState | null>(() => {}); // a broker that never answers
        },
        "q",
        () => true,
        () => {},
      );
      await Bun.sleep(1000);
      stop();
    });
    expect(calls).toBe(1);
    const counted = scripted(look(0, 1));
    await drive(async () => {
      watchServer(
        counted.inspect,
        "q",
        () => true,
        () => {},
      )();
      await Bun.sleep(1000);
    });
    expect(counted.calls()).toBe(0);
  });
});
