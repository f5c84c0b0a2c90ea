import { formatDurationMs } from "../duration.ts";
import { plural } from "../text.ts";
import type { Verdict } from "./evaluate.ts";
import type { Observation } from "./observation.ts";
import { formatRange } from "./range.ts";
import { STATE_EXIT_CODES, type HealthState } from "./states.ts";
import type { Thresholds } from "./thresholds.ts";

const PLUGIN = "FIBRPC";

export interface Report {
  observation: Observation;
  verdict: Verdict;
  thresholds: Thresholds;
}

/**
 * The one status line of the monitoring-plugin convention:
 *   FIBRPC OK - rpc_queue: 2 consumers, 0 ready, round trip 3.1ms | consumers=2;;1: ready=0;100;1000 rtt=0.003100s;0.5;2
 * What is wrong comes first (most severe first), then what was seen; perfdata after `|`.
 */
export function formatStatusLine(report: Report): string {
  const perfdata = formatPerfdata(report);
  return `${PLUGIN} ${report.verdict.state} - ${summary(report)}${perfdata === "" ? "" : ` | ${perfdata}`}`;
}

/** For failures that leave nothing to report (bad usage, our own timeout, a bug): UNKNOWN. */
export function formatUnknownLine(message: string): string {
  return `${PLUGIN} UNKNOWN - ${oneLine(message)}`;
}

/** The same facts as the status line, as one JSON object for scripts and dashboards. */
export function formatJson(report: Report): string {
  const { observation, verdict, thresholds } = report;
  return JSON.stringify({
    state: verdict.state,
    exitCode: STATE_EXIT_CODES[verdict.state],
    queue: observation.queue,
    summary: summary(report),
    reasons: verdict.reasons,
    observed: observation,
    thresholds: {
      minConsumers: thresholds.minConsumers,
      backlogWarning: formatRange(thresholds.backlogWarning),
      backlogCritical: formatRange(thresholds.backlogCritical),
      rttWarningSeconds: formatRange(thresholds.rttWarning),
      rttCriticalSeconds: formatRange(thresholds.rttCritical),
    },
    perfdata: formatPerfdata(report),
  });
}

export function formatUnknownJson(queue: string, message: string): string {
  return JSON.stringify({
    state: "UNKNOWN" satisfies HealthState,
    exitCode: STATE_EXIT_CODES.UNKNOWN,
    queue,
    summary: oneLine(message),
    reasons: [{ state: "UNKNOWN", message: oneLine(message) }],
  });
}

function summary({ observation, verdict }: Report): string {
  const problems = verdict.reasons.map((reason) => reason.message);
  if (!observation.reached || !observation.queueExists) return oneLine(`${observation.queue}: ${problems.join("; ")}`);
  const facts = [plural(observation.consumers, "consumer"), `${observation.ready} ready`];
  const probe = observation.probe;
  if (probe.kind === "answered" || probe.kind === "error-reply") facts.push(`round trip ${formatDurationMs(probe.rttMs)}`);
  else if (probe.kind === "skipped") facts.push(probe.why === "disabled" ? "probe off" : "probe not sent");
  const { nodes } = observation;
  if (nodes !== undefined) facts.push(`${nodes.up} of ${nodes.listed} nodes up${nodes.via === undefined ? "" : `, checked via ${nodes.via}`}`);
  return oneLine(`${observation.queue}: ${[...problems, facts.join(", ")].join("; ")}`);
}

/** Perfdata in the standard syntax `label=value[UOM];[warn];[crit]`, only for values actually measured. */
export function formatPerfdata({ observation, thresholds }: Report): string {
  // label=value;warn;crit;min;max: the state comes from the reasons, the graph gets its scale.
  const nodes = observation.nodes === undefined ? [] : [`nodes_up=${observation.nodes.up};;;0;${observation.nodes.listed}`];
  if (!observation.reached || !observation.queueExists) return nodes.join(" ");
  const items = [
    `consumers=${observation.consumers};;${thresholds.minConsumers}:`,
    `ready=${observation.ready};${formatRange(thresholds.backlogWarning)};${formatRange(thresholds.backlogCritical)}`,
  ];
  const probe = observation.probe;
  if (probe.kind === "answered" || probe.kind === "error-reply") {
    items.push(`rtt=${(probe.rttMs / 1000).toFixed(6)}s;${formatRange(thresholds.rttWarning)};${formatRange(thresholds.rttCritical)}`);
  }
  return [...items, ...nodes].join(" ");
}

/** Monitoring tools read the first line only; `|` would start perfdata early. */
function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").replaceAll("|", "/");
}
