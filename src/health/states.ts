/**
 * The four states of the monitoring-plugin convention (Nagios, Icinga, Sensu, Monitoring
 * Plugins), each with the exit code those tools read. Ordered by severity, UNKNOWN aside:
 * a check that knows something is CRITICAL says so even if another part is unknown.
 */
export type HealthState = "OK" | "WARNING" | "CRITICAL" | "UNKNOWN";

export const STATE_EXIT_CODES: Record<HealthState, number> = { OK: 0, WARNING: 1, CRITICAL: 2, UNKNOWN: 3 };

// CRITICAL outranks UNKNOWN: "the queue is missing" is more useful to an operator than "something timed out".
const SEVERITY: Record<HealthState, number> = { OK: 0, WARNING: 1, UNKNOWN: 2, CRITICAL: 3 };

/** The most severe of the given states; OK when there are none. */
export function worstOf(states: Iterable<HealthState>): HealthState {
  let worst: HealthState = "OK";
  for (const state of states) if (SEVERITY[state] > SEVERITY[worst]) worst = state;
  return worst;
}

/** The text --help of `health` and docs/health.md show; kept next to the codes so they never drift. */
export const HEALTH_STATES_HELP = `STATES AND EXIT CODES (monitoring-plugin convention)

  0  OK        broker reachable, queue present, enough consumers, backlog and round trip within thresholds
  1  WARNING   backlog (messages ready) beyond --backlog-warning, or round trip beyond --rtt-warning
  2  CRITICAL  broker down or unreachable (refused, DNS, TLS, connection lost)
               broker refused us (wrong user or password, vhost missing or not permitted)
               queue missing; fewer consumers than --min-consumers
               backlog beyond --backlog-critical; round trip beyond --rtt-critical
               probe answered wrongly, answered with an error, or not at all in time
  3  UNKNOWN   bad usage (unknown flag, bad threshold), an internal error,
               or the whole check did not finish within -t/--timeout

  One status line on stdout, perfdata after '|':
    FIBRPC OK - rpc_queue: 2 consumers, 0 ready, round trip 3.1ms | consumers=2;;1: ready=0;100;1000 rtt=0.003100s;0.5;2
  Thresholds take the Monitoring Plugins range syntax: 10 (alert above 10), 10: (below 10),
  ~:10 (above 10), 10:20 (outside 10..20), @10:20 (inside 10..20); ~: never alerts, which
  turns a threshold off. Round-trip ranges are in seconds and accept units: 500ms, 2s.`;
