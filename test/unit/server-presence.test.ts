import { describe, expect, test } from "bun:test";
import { ABSENCE_GRACE_MS, PresenceJudge, presenceOf } from "../../src/rpc/server-presence.ts";

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

  test("reset forgets an old absence", () => {
    const judge = new PresenceJudge(true);
    judge.judge(look(1, 0), 0);
    judge.reset();
    expect(judge.judge(look(1, 0), 10 * ABSENCE_GRACE_MS)).toBe("undecided");
  });
});
