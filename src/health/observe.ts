import { FibrpcError, ServerReplyError, TimeoutError } from "../errors.ts";
import { redactUrl } from "../redact.ts";
import { mostTellingFailure, type BrokerOptions } from "../rpc/broker.ts";
import { callOutcome, requestBody } from "../rpc/calls.ts";
import { RequestEngine } from "../rpc/request-engine.ts";
import { decidedLook } from "../rpc/server-presence.ts";
import { withHint } from "../cli/hints.ts";
import type { NodeCount, Observation, ProbeResult } from "./observation.ts";

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
 * Looks at the broker, the queue and (optionally) one real round trip. Passive only: declares
 * nothing, and the probe's reply comes back over direct reply-to, so no queue is left behind.
 * With several URLs every node is connected to at once (a node that does not answer is worth a
 * warning), and the check goes through the first listed node that answered; a probe that fails
 * there for want of a connection is tried through the next. Every connection is closed before
 * returning. Expected failures become part of the observation; only bugs throw.
 */
export async function observe(options: ObserveOptions): Promise<Observation> {
  const { queue, broker } = options;
  const stage = options.onStage ?? (() => {});
  stage("connecting");
  const timeoutMs = Math.max(1, options.probeDeadline - Date.now());
  // No connect deadline of its own: the command's -t/--timeout says how long a stuck connect may take.
  const opened = await Promise.allSettled(
    broker.urls.map((url) => RequestEngine.open({ broker: { ...broker, urls: [url] }, queue, replyQueue: "direct", timeoutMs }, { serverCheck: "none" })),
  );
  const engines = opened.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
  try {
    const failures = opened.flatMap((result, index) => (result.status === "rejected" ? [{ url: broker.urls[index] ?? "", error: typed(result.reason) }] : []));
    const nodes = (via: RequestEngine | undefined): NodeCount | undefined =>
      broker.urls.length < 2
        ? undefined
        : {
            listed: broker.urls.length,
            up: engines.length,
            via: via?.node === undefined ? undefined : redactUrl(via.node),
            down: failures.map(({ url, error }) => ({ node: redactUrl(url), message: error.message })),
          };
    if (engines.length === 0) return { ...unreached(queue, mostTellingFailure(failures.map(({ error }) => error))), nodes: nodes(undefined) };
    for (const [index, engine] of engines.entries()) {
      const observation = await observeThrough(engine, options, stage);
      const tryNext = observation.reached && observation.queueExists && observation.probe.kind === "failed" && index < engines.length - 1;
      if (!tryNext) return { ...observation, nodes: nodes(engine) };
    }
    throw new Error("observe: no node was checked");
  } finally {
    stage("closing");
    await Promise.all(engines.map((engine) => engine.close()));
  }
}

/** The queue and the probe, through one node's connection. */
async function observeThrough(engine: RequestEngine, options: ObserveOptions, stage: (stage: ObserveStage) => void): Promise<Observation> {
  const { queue } = options;
  try {
    stage("inspecting");
    // A quorum queue in a leader election reports no consumers for a moment: look until it is clear.
    const state = await decidedLook((name) => engine.inspectQueue(name), queue, options.probeDeadline);
    if (state === null) return { reached: true, queue, queueExists: false };
    let probe: ProbeResult;
    if (!options.probe) probe = { kind: "skipped", why: "disabled" };
    else if (state.consumerCount === 0) probe = { kind: "skipped", why: "no-consumer" };
    else {
      stage("probing");
      probe = await runProbe(engine, options.probeDeadline);
    }
    const observed = { reached: true, queue, queueExists: true, consumers: state.consumerCount, ready: state.messageCount, probe } as const;
    // No fibrpc worker serves a stream: say so, rather than only "no consumer".
    return state.consumerCount === 0 && (await engine.queueIsStream(queue)) ? { ...observed, stream: true } : observed;
  } catch (error) {
    if (error instanceof FibrpcError) return unreached(queue, error);
    throw error;
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

/** What a connect failure is in fibrpc's error model; anything else is a bug, and is thrown. */
function typed(error: unknown): FibrpcError {
  if (error instanceof FibrpcError) return error;
  throw error;
}

function unreached(queue: string, error: FibrpcError): Observation {
  return { reached: false, queue, failure: error.kind === "refused" ? "refused" : "unreachable", message: withHint(error) };
}
