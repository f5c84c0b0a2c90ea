/**
 * What one run of the check saw, before any judgement: produced by observe.ts (the I/O),
 * judged by evaluate.ts, shown by format.ts. Plain data, so the last two are pure.
 */
export type Observation = (
  | { reached: false; queue: string; failure: "unreachable" | "refused"; message: string }
  | { reached: true; queue: string; queueExists: false }
  | { reached: true; queue: string; queueExists: true; consumers: number; ready: number; probe: ProbeResult; stream?: true | undefined }
) & { nodes?: NodeCount | undefined };

/** With several broker URLs (a cluster): how many answered, which one the check went through, which did not. */
export interface NodeCount {
  listed: number;
  up: number;
  /** The node checked through (password hidden), when one answered. */
  via?: string | undefined;
  /** Each node that did not answer (password hidden) and why. */
  down: { node: string; message: string }[];
}

export type ProbeResult =
  | { kind: "skipped"; why: "disabled" | "no-consumer" }
  /** The worker answered; `value` is what it said, `expected` what F(n) is. */
  | { kind: "answered"; n: number; value: string; expected: string; rttMs: number }
  | { kind: "error-reply"; n: number; code: string; message: string; rttMs: number }
  | { kind: "timeout"; n: number; timeoutMs: number }
  /** Anything else on the way: the queue vanished, the connection dropped. */
  | { kind: "failed"; n: number; message: string };
