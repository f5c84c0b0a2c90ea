import { formatDurationMs } from "../duration.ts";
import { streamRefusalMessage } from "../rpc/queue-arguments.ts";
import type { Observation, ProbeResult } from "./observation.ts";
import { alerts, describeBreach, type Range } from "./range.ts";
import { worstOf, type HealthState } from "./states.ts";
import type { Thresholds } from "./thresholds.ts";

/** One thing that is not OK, with the state it calls for. */
export interface Reason {
  state: Exclude<HealthState, "OK">;
  message: string;
}

export interface Verdict {
  state: HealthState;
  /** Most severe first, so the status line leads with what matters. */
  reasons: Reason[];
}

/** Judges an observation against the thresholds. Pure: no I/O, no clock. */
export function evaluate(observation: Observation, thresholds: Thresholds): Verdict {
  const reasons = findReasons(observation, thresholds);
  const order: Record<Reason["state"], number> = { CRITICAL: 0, UNKNOWN: 1, WARNING: 2 };
  reasons.sort((a, b) => order[a.state] - order[b.state]);
  return { state: worstOf(reasons.map((reason) => reason.state)), reasons };
}

function findReasons(observation: Observation, thresholds: Thresholds): Reason[] {
  return [...serviceReasons(observation, thresholds), ...nodeReasons(observation)];
}

/** A listed node that does not answer is worth a warning: the service still works through the others. */
function nodeReasons({ reached, nodes }: Observation): Reason[] {
  if (!reached || nodes === undefined || nodes.down.length === 0) return [];
  const which = nodes.down.map((down) => `${down.node} (${down.message})`).join(", ");
  return [{ state: "WARNING", message: `${nodes.down.length} of ${nodes.listed} broker nodes not answering: ${which}` }];
}

function serviceReasons(observation: Observation, thresholds: Thresholds): Reason[] {
  if (!observation.reached) return [{ state: "CRITICAL", message: observation.message }];
  if (!observation.queueExists) return [{ state: "CRITICAL", message: "queue does not exist" }];
  const reasons: Reason[] = [];
  if (observation.stream) reasons.push({ state: "CRITICAL", message: streamRefusalMessage(observation.queue) });
  else if (observation.consumers < thresholds.minConsumers) {
    const message = observation.consumers === 0 ? "no consumer" : "too few consumers";
    reasons.push({ state: "CRITICAL", message: `${message} (need at least ${thresholds.minConsumers})` });
  }
  const backlog = leveled(observation.ready, thresholds.backlogCritical, thresholds.backlogWarning);
  if (backlog) reasons.push({ state: backlog.state, message: `backlog ${backlog.breach}` });
  reasons.push(...probeReasons(observation.probe, thresholds));
  return reasons;
}

function probeReasons(probe: ProbeResult, thresholds: Thresholds): Reason[] {
  switch (probe.kind) {
    case "skipped":
      return [];
    case "timeout":
      return [{ state: "CRITICAL", message: `probe F(${probe.n}) got no answer within ${formatDurationMs(probe.timeoutMs)}` }];
    case "failed":
      return [{ state: "CRITICAL", message: `probe F(${probe.n}) failed: ${probe.message}` }];
    case "error-reply":
      return [{ state: "CRITICAL", message: `probe F(${probe.n}) got an error reply: ${probe.message}` }];
    case "answered": {
      if (probe.value !== probe.expected) {
        return [{ state: "CRITICAL", message: `probe F(${probe.n}) answered ${clip(probe.value)}, expected ${probe.expected}` }];
      }
      const slow = leveled(probe.rttMs / 1000, thresholds.rttCritical, thresholds.rttWarning, " s");
      return slow ? [{ state: slow.state, message: `round trip ${slow.breach}` }] : [];
    }
  }
}

/** CRITICAL when the critical range alerts, else WARNING when the warning range does. */
function leveled(value: number, critical: Range, warning: Range, unit = ""): { state: "CRITICAL" | "WARNING"; breach: string } | undefined {
  if (alerts(critical, value)) return { state: "CRITICAL", breach: `${describeBreach(critical, value)}${unit} (critical)` };
  if (alerts(warning, value)) return { state: "WARNING", breach: `${describeBreach(warning, value)}${unit} (warning)` };
  return undefined;
}

/** A lying worker may send anything; the status line stays one readable line. */
function clip(text: string): string {
  const oneLine = JSON.stringify(text);
  return oneLine.length > 60 ? `${oneLine.slice(0, 57)}..."` : oneLine;
}
