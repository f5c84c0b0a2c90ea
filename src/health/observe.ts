import { FibrpcError, ServerReplyError, TimeoutError } from "../errors.ts";
import type { BrokerOptions } from "../rpc/broker.ts";
import { callOutcome, requestBody } from "../rpc/calls.ts";
import { RequestEngine } from "../rpc/request-engine.ts";
import type { Observation, ProbeResult } from "./observation.ts";

/**
 * The probe asks for F(90): large enough that a worker must really compute it (19 digits,
 * beyond 2^53, so a float-based answer is wrong), small enough for any --max-n a worker runs with.
 * The expected value is a constant, not our own fibonacci(), so a bug there cannot hide.
 */
export const PROBE_N = 90;
export const PROBE_EXPECTED = "2880067194370816120";

export type ObserveStage = "connecting" | "inspecting" | "probing" | "closing";

export interface ObserveOptions {
  broker: BrokerOptions;
  queue: string;
  probe: boolean;
  /** Epoch ms by which the probe's answer must be in; later counts as a probe timeout. */
  probeDeadline: number;
  /** Told what is under way, so a caller that gives up can say where it hung. */
  onStage?: (stage: ObserveStage) => void;
}

/**
 * Looks at the broker, the queue and (optionally) one real round trip, on one connection that
 * is always closed before returning. Passive only: declares nothing, and the probe's reply
 * comes back over direct reply-to, so no queue is left behind. Expected failures become part
 * of the observation; only bugs throw.
 */
export async function observe(options: ObserveOptions): Promise<Observation> {
  const { queue } = options;
  const stage = options.onStage ?? (() => {});
  stage("connecting");
  let engine: RequestEngine;
  const timeoutMs = Math.max(1, options.probeDeadline - Date.now());
  try {
    // Direct reply-to: the probe leaves no queue behind. Health looks at the queue itself, below.
    engine = await RequestEngine.open(
      { broker: options.broker, queue, replyQueue: "direct", timeoutMs },
      // No connect deadline of its own: the command's -t/--timeout says how long a stuck connect may take.
      { serverCheck: "none" },
    );
  } catch (error) {
    if (error instanceof FibrpcError) return unreached(queue, error);
    throw error;
  }
  try {
    stage("inspecting");
    const state = await engine.inspectQueue(queue);
    if (state === null) return { reached: true, queue, queueExists: false };
    let probe: ProbeResult;
    if (!options.probe) probe = { kind: "skipped", why: "disabled" };
    else if (state.consumerCount === 0) probe = { kind: "skipped", why: "no-consumer" };
    else {
      stage("probing");
      probe = await runProbe(engine, options.probeDeadline);
    }
    return { reached: true, queue, queueExists: true, consumers: state.consumerCount, ready: state.messageCount, probe };
  } catch (error) {
    if (error instanceof FibrpcError) return unreached(queue, error);
    throw error;
  } finally {
    stage("closing");
    await engine.close();
  }
}

/** One request for F(PROBE_N), timed from its publish to its reply. */
async function runProbe(engine: RequestEngine, deadlineMs: number): Promise<ProbeResult> {
  const n = PROBE_N;
  const timeoutMs = Math.max(0, deadlineMs - Date.now());
  const started = performance.now();
  const outcome = callOutcome(n, await engine.request(requestBody(n), deadlineMs));
  const rttMs = Math.round((performance.now() - started) * 1000) / 1000; // microseconds: the rest is timer noise
  if (outcome.ok) return { kind: "answered", n, value: outcome.value, expected: PROBE_EXPECTED, rttMs };
  const { error } = outcome;
  if (error instanceof ServerReplyError) {
    return { kind: "error-reply", n, code: error.code, message: error.message, rttMs };
  }
  if (error instanceof TimeoutError) return { kind: "timeout", n, timeoutMs };
  return { kind: "failed", n, message: error.message };
}

function unreached(queue: string, error: FibrpcError): Observation {
  return { reached: false, queue, failure: error.kind === "refused" ? "refused" : "unreachable", message: error.message };
}
