import { describe, expect, test } from "bun:test";
import { fibonacci } from "../../src/fib.ts";
import { evaluate } from "../../src/health/evaluate.ts";
import { formatJson, formatPerfdata, formatStatusLine, formatUnknownJson, formatUnknownLine } from "../../src/health/format.ts";
import type { Observation, ProbeResult } from "../../src/health/observation.ts";
import { PROBE_EXPECTED, PROBE_N } from "../../src/health/observe.ts";
import { HEALTH_STATES_HELP, STATE_EXIT_CODES, worstOf } from "../../src/health/states.ts";
import { DEFAULT_THRESHOLD_TEXTS, parseThresholds } from "../../src/health/thresholds.ts";

const thresholds = parseThresholds(DEFAULT_THRESHOLD_TEXTS);

function answered(rttMs: number, value = PROBE_EXPECTED): ProbeResult {
  return { kind: "answered", n: PROBE_N, value, expected: PROBE_EXPECTED, rttMs };
}

function seen(overrides: { consumers?: number; ready?: number; probe?: ProbeResult } = {}): Observation {
  return { reached: true, queue: "rpc_queue", queueExists: true, consumers: 2, ready: 0, probe: answered(3.1), ...overrides };
}

function line(observation: Observation, custom = thresholds): string {
  return formatStatusLine({ observation, verdict: evaluate(observation, custom), thresholds: custom });
}

test("the probe's expected answer really is F(90)", () => {
  expect(fibonacci(PROBE_N).toString()).toBe(PROBE_EXPECTED);
});

test("states: exit codes 0-3 and worst-of, CRITICAL above UNKNOWN", () => {
  expect(STATE_EXIT_CODES).toEqual({ OK: 0, WARNING: 1, CRITICAL: 2, UNKNOWN: 3 });
  expect(worstOf([])).toBe("OK");
  expect(worstOf(["WARNING", "OK"])).toBe("WARNING");
  expect(worstOf(["UNKNOWN", "WARNING"])).toBe("UNKNOWN");
  expect(worstOf(["UNKNOWN", "CRITICAL", "WARNING"])).toBe("CRITICAL");
});

describe("evaluate + formatStatusLine", () => {
  test("OK: the line of the issue, with perfdata in standard syntax", () => {
    expect(line(seen())).toBe("FIBRPC OK - rpc_queue: 2 consumers, 0 ready, round trip 3.1ms | consumers=2;;1: ready=0;100;1000 rtt=0.003100s;0.5;2");
  });

  test("backlog: WARNING above 100, CRITICAL above 1000, OK at exactly 100", () => {
    expect(evaluate(seen({ ready: 100 }), thresholds).state).toBe("OK");
    expect(line(seen({ ready: 101 }))).toStartWith("FIBRPC WARNING - rpc_queue: backlog above 100 (warning); 2 consumers, 101 ready");
    expect(line(seen({ ready: 1001 }))).toStartWith("FIBRPC CRITICAL - rpc_queue: backlog above 1000 (critical); 2 consumers, 1001 ready");
  });

  test("round trip: WARNING above 0.5 s, CRITICAL above 2 s", () => {
    expect(evaluate(seen({ probe: answered(500) }), thresholds).state).toBe("OK");
    expect(line(seen({ probe: answered(700) }))).toContain("WARNING - rpc_queue: round trip above 0.5 s (warning)");
    expect(line(seen({ probe: answered(2500) }))).toContain("CRITICAL - rpc_queue: round trip above 2 s (critical)");
    expect(line(seen({ probe: answered(2500) }))).toEndWith("rtt=2.500000s;0.5;2");
  });

  test("consumers below the minimum are CRITICAL and the probe is not sent", () => {
    const text = line(seen({ consumers: 0, probe: { kind: "skipped", why: "no-consumer" } }));
    expect(text).toBe("FIBRPC CRITICAL - rpc_queue: no consumer (need at least 1); 0 consumers, 0 ready, probe not sent | consumers=0;;1: ready=0;100;1000");
    const three = parseThresholds({ ...DEFAULT_THRESHOLD_TEXTS, minConsumers: "3" });
    expect(line(seen(), three)).toStartWith("FIBRPC CRITICAL - rpc_queue: too few consumers (need at least 3)");
  });

  test("a wrong answer is CRITICAL even when fast", () => {
    expect(line(seen({ probe: answered(1, "42") }))).toStartWith(
      `FIBRPC CRITICAL - rpc_queue: probe F(90) answered "42", expected ${PROBE_EXPECTED}; 2 consumers`,
    );
  });

  test("an error reply, a probe timeout and a failed probe are CRITICAL", () => {
    const error: ProbeResult = { kind: "error-reply", n: 90, code: "OUT_OF_RANGE", message: "server error OUT_OF_RANGE: too big", rttMs: 2 };
    expect(evaluate(seen({ probe: error }), thresholds).state).toBe("CRITICAL");
    expect(line(seen({ probe: { kind: "timeout", n: 90, timeoutMs: 8000 } }))).toContain("probe F(90) got no answer within 8s");
    expect(evaluate(seen({ probe: { kind: "failed", n: 90, message: "connection lost" } }), thresholds).state).toBe("CRITICAL");
  });

  test("the most severe reason comes first", () => {
    const text = line(seen({ ready: 500, probe: answered(1, "1") }));
    expect(text).toStartWith('FIBRPC CRITICAL - rpc_queue: probe F(90) answered "1"');
    expect(text).toContain("; backlog above 100 (warning);");
  });

  test("unreachable broker, refused login and a missing queue: CRITICAL without perfdata", () => {
    const down: Observation = { reached: false, queue: "q", failure: "unreachable", message: "broker unreachable at amqp://h: connection refused" };
    expect(line(down)).toBe("FIBRPC CRITICAL - q: broker unreachable at amqp://h: connection refused");
    expect(line({ reached: true, queue: "q", queueExists: false })).toBe("FIBRPC CRITICAL - q: queue does not exist");
  });

  test("--no-probe: no rtt perfdata, 'probe off'", () => {
    const observation = seen({ probe: { kind: "skipped", why: "disabled" } });
    expect(line(observation)).toBe("FIBRPC OK - rpc_queue: 2 consumers, 0 ready, probe off | consumers=2;;1: ready=0;100;1000");
  });

  test("custom ranges appear in perfdata as given, canonically", () => {
    const custom = parseThresholds({ minConsumers: "0", backlogWarning: "@5:10", backlogCritical: "~:50", rttWarning: "100ms", rttCritical: "0.25:1s" });
    expect(formatPerfdata({ observation: seen(), verdict: evaluate(seen(), custom), thresholds: custom })).toBe(
      "consumers=2;;0: ready=0;@5:10;~:50 rtt=0.003100s;0.1;0.25:1",
    );
  });

  test("one line, always: newlines and `|` from a message cannot break the format", () => {
    expect(formatUnknownLine("a\nb | c")).toBe("FIBRPC UNKNOWN - a b / c");
  });
});

test("formatJson carries state, exit code, reasons, what was observed and the perfdata", () => {
  const observation = seen({ ready: 150 });
  const parsed: unknown = JSON.parse(formatJson({ observation, verdict: evaluate(observation, thresholds), thresholds }));
  expect(parsed).toMatchObject({
    state: "WARNING",
    exitCode: 1,
    queue: "rpc_queue",
    reasons: [{ state: "WARNING", message: "backlog above 100 (warning)" }],
    observed: { consumers: 2, ready: 150, probe: { kind: "answered", value: PROBE_EXPECTED } },
    thresholds: { minConsumers: 1, backlogWarning: "100", backlogCritical: "1000", rttWarningSeconds: "0.5", rttCriticalSeconds: "2" },
    perfdata: "consumers=2;;1: ready=150;100;1000 rtt=0.003100s;0.5;2",
  });
});

describe("parseThresholds refuses bad values with the flag's name", () => {
  for (const [field, text, flag] of [
    ["minConsumers", "-1", "--min-consumers"],
    ["backlogWarning", "1.5", "--backlog-warning"],
    ["backlogCritical", "x", "--backlog-critical"],
    ["rttWarning", "fast", "--rtt-warning"],
    ["rttCritical", "3:1", "--rtt-critical"],
  ] as const) {
    test(`${flag} ${text}`, () => {
      expect(() => parseThresholds({ ...DEFAULT_THRESHOLD_TEXTS, [field]: text })).toThrow(flag);
    });
  }
});

describe("evaluate + format: edges", () => {
  test("exactly the minimum number of consumers is enough", () => {
    const two = parseThresholds({ ...DEFAULT_THRESHOLD_TEXTS, minConsumers: "2" });
    expect(evaluate(seen({ consumers: 2 }), two)).toMatchObject({ state: "OK", reasons: [] });
  });

  test("each probe failure is worded for the status line", () => {
    const reasonsOf = (probe: ProbeResult) => evaluate(seen({ probe }), thresholds).reasons;
    expect(reasonsOf({ kind: "failed", n: 90, message: "connection lost" })).toEqual([{ state: "CRITICAL", message: "probe F(90) failed: connection lost" }]);
    expect(reasonsOf({ kind: "error-reply", n: 90, code: "X", message: "server error X", rttMs: 1 })).toEqual([
      { state: "CRITICAL", message: "probe F(90) got an error reply: server error X" },
    ]);
    expect(reasonsOf({ kind: "timeout", n: 90, timeoutMs: 2400 })).toEqual([{ state: "CRITICAL", message: "probe F(90) got no answer within 2.4s" }]);
  });

  test("a wrong answer is quoted, and a long one cut to 60 characters", () => {
    const quoted = (value: string) => evaluate(seen({ probe: answered(1, value) }), thresholds).reasons[0]?.message;
    const exactly60 = "7".repeat(58); // 60 with its quotes: shown whole
    expect(quoted(exactly60)).toBe(`probe F(90) answered "${exactly60}", expected ${PROBE_EXPECTED}`);
    expect(quoted("7".repeat(59))).toBe(`probe F(90) answered "${"7".repeat(56)}...", expected ${PROBE_EXPECTED}`);
  });

  test("one consumer is singular; the round trip is written as every duration is (three figures, s from a second)", () => {
    expect(line(seen({ consumers: 1, probe: answered(998) }))).toStartWith(
      "FIBRPC WARNING - rpc_queue: round trip above 0.5 s (warning); 1 consumer, 0 ready, round trip 998ms |",
    );
    expect(line(seen({ probe: answered(1500) }))).toContain("2 consumers, 0 ready, round trip 1.5s |");
    const errorReply: ProbeResult = { kind: "error-reply", n: 90, code: "X", message: "m", rttMs: 4 };
    expect(line(seen({ probe: errorReply }))).toContain("2 consumers, 0 ready, round trip 4ms | consumers=2;;1: ready=0;100;1000 rtt=0.004000s;0.5;2");
  });

  test("after a probe that timed out or failed, the facts are counts only: the reason already says what happened", () => {
    expect(line(seen({ probe: { kind: "timeout", n: 90, timeoutMs: 2400 } }))).toBe(
      "FIBRPC CRITICAL - rpc_queue: probe F(90) got no answer within 2.4s; 2 consumers, 0 ready | consumers=2;;1: ready=0;100;1000",
    );
    expect(line(seen({ probe: { kind: "failed", n: 90, message: "lost" } }))).toContain("probe F(90) failed: lost; 2 consumers, 0 ready |");
  });

  test("an UNKNOWN as JSON: state, exit code 3, the queue, and the message on one line", () => {
    expect(JSON.parse(formatUnknownJson("q", "bad\nflag | x"))).toEqual({
      state: "UNKNOWN",
      exitCode: 3,
      queue: "q",
      summary: "bad flag / x",
      reasons: [{ state: "UNKNOWN", message: "bad flag / x" }],
    });
  });

  test("the help text lists every state with its exit code", () => {
    for (const entry of ["0  OK", "1  WARNING", "2  CRITICAL", "3  UNKNOWN"]) expect(HEALTH_STATES_HELP).toContain(entry);
  });
});

describe("parseThresholds: what each endpoint accepts", () => {
  test("the consumer minimum may have blanks around it; round trips keep plain seconds exact", () => {
    const parsed = parseThresholds({ ...DEFAULT_THRESHOLD_TEXTS, minConsumers: " 2 ", rttWarning: "0.0004", rttCritical: "1500ms" });
    expect(parsed.minConsumers).toBe(2);
    expect(parsed.rttWarning).toEqual({ start: 0, end: 0.0004, alertInside: false });
    expect(parsed.rttCritical).toEqual({ start: 0, end: 1.5, alertInside: false });
  });

  test("a consumer minimum must be a whole number, and so must backlog bounds", () => {
    expect(() => parseThresholds({ ...DEFAULT_THRESHOLD_TEXTS, minConsumers: "1.5" })).toThrow("--min-consumers needs a whole number of 0 or more, got '1.5'");
    expect(() => parseThresholds({ ...DEFAULT_THRESHOLD_TEXTS, minConsumers: "" })).toThrow("--min-consumers");
    expect(parseThresholds({ ...DEFAULT_THRESHOLD_TEXTS, minConsumers: "0" }).minConsumers).toBe(0);
  });
});

describe("health on a cluster (several URLs)", () => {
  const nodes = (up: number, down: string[] = []) => ({
    listed: up + down.length,
    up,
    via: "amqp://guest:***@n1:5672",
    down: down.map((node) => ({ node, message: "connection refused" })),
  });

  test("every node up: OK, says which node it checked through, nodes_up perfdata", () => {
    const result = line({ ...seen(), nodes: nodes(3) });
    expect(result).toStartWith("FIBRPC OK - rpc_queue: 2 consumers, 0 ready, round trip 3.1ms, 3 of 3 nodes up, checked via amqp://guest:***@n1:5672 |");
    expect(result).toEndWith(" nodes_up=3;;;0;3");
  });

  test("a node that does not answer: WARNING naming it, the service itself still checked", () => {
    const observation: Observation = { ...seen(), nodes: nodes(2, ["amqp://guest:***@n3:5672"]) };
    expect(evaluate(observation, thresholds).state).toBe("WARNING");
    expect(line(observation)).toContain("1 of 3 broker nodes not answering: amqp://guest:***@n3:5672 (connection refused)");
    expect(line(observation)).toContain("nodes_up=2;;;0;3");
  });

  test("a node down and no consumer: CRITICAL first, the node warning after", () => {
    const verdict = evaluate({ ...seen({ consumers: 0, probe: { kind: "skipped", why: "no-consumer" } }), nodes: nodes(2, ["n3"]) }, thresholds);
    expect(verdict.state).toBe("CRITICAL");
    expect(verdict.reasons.map((reason) => reason.state)).toEqual(["CRITICAL", "WARNING"]);
  });

  test("no node answers: CRITICAL, with nodes_up=0", () => {
    const observation: Observation = {
      reached: false,
      queue: "rpc_queue",
      failure: "unreachable",
      message: "no broker node reachable",
      nodes: { ...nodes(0, ["a", "b"]), via: undefined },
    };
    expect(evaluate(observation, thresholds).state).toBe("CRITICAL");
    expect(formatPerfdata({ observation, verdict: evaluate(observation, thresholds), thresholds })).toBe("nodes_up=0;;;0;2");
  });
});
