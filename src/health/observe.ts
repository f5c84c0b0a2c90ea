import { FibrpcError, ServerReplyError, TimeoutError } from "../errors.ts";
import { classifyBrokerError, type BrokerOptions } from "../rpc/broker.ts";
import { RpcClient } from "../rpc/client.ts";
import { withHint } from "../cli/hints.ts";
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
  let client: RpcClient;
  try {
    client = await RpcClient.connect(options.broker);
  } catch (error) {
    return unreached(queue, classifyBrokerError(error, options.broker.urls[0]));
  }
  try {
    stage("inspecting");
    const state = await client.inspectQueue(queue);
    if (state === null) return { reached: true, queue, queueExists: false };
    let probe: ProbeResult;
    if (!options.probe) probe = { kind: "skipped", why: "disabled" };
    else if (state.consumerCount === 0) probe = { kind: "skipped", why: "no-consumer" };
    else {
      stage("probing");
      probe = await runProbe(client, queue, Math.max(1, options.probeDeadline - Date.now()));
    }
    return { reached: true, queue, queueExists: true, consumers: state.consumerCount, ready: state.messageCount, probe };
  } catch (error) {
    if (error instanceof FibrpcError) return unreached(queue, error);
    throw error;
  } finally {
    stage("closing");
    await client.close();
  }
}

async function runProbe(client: RpcClient, queue: string, timeoutMs: number): Promise<ProbeResult> {
  const outcome = await client.probe(PROBE_N, { queue, timeoutMs });
  const n = PROBE_N;
  const rttMs = Math.round(outcome.rttMs * 1000) / 1000; // microseconds: the rest is timer noise
  if (outcome.ok) return { kind: "answered", n, value: outcome.value, expected: PROBE_EXPECTED, rttMs };
  const { error } = outcome;
  if (error instanceof ServerReplyError) {
    return { kind: "error-reply", n, code: error.code, message: error.message, rttMs };
  }
  if (error instanceof TimeoutError) return { kind: "timeout", n, timeoutMs };
  return { kind: "failed", n, message: error.message };
}

function unreached(queue: string, error: FibrpcError): Observation {
  return { reached: false, queue, failure: error.kind === "refused" ? "refused" : "unreachable", message: withHint(error) };
}
