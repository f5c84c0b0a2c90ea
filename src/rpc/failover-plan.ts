/**
 * Which broker node a recovering worker tries next, and how long it waits first. Pure: the
 * caller passes the random source, so the schedule is testable.
 *
 * Each worker walks the listed nodes in an order of its own (a random permutation), so that
 * workers given the same list spread over its nodes, and the workers of a node that dies
 * spread over the survivors instead of all moving to the node listed after it. Within one
 * walk the next node is tried at once (a refused node costs a round trip); only a node tried
 * again in the same run of failures waits, with full-jitter exponential backoff.
 */

export interface BackoffBounds {
  /** Shortest wait before trying a node again. */
  lowMs: number;
  /** Longest wait, however many walks have failed. */
  highMs: number;
  /** How much the ceiling grows per failed walk. */
  factor: number;
}

export const DEFAULT_BACKOFF: BackoffBounds = { lowMs: 100, highMs: 3000, factor: 2 };

/** A uniformly random order of `0 … count-1` (Fisher–Yates). */
export function shuffledOrder(count: number, random: () => number = Math.random): number[] {
  const order = Array.from({ length: count }, (_, index) => index);
  for (let last = count - 1; last > 0; last--) {
    const pick = Math.floor(random() * (last + 1));
    [order[last], order[pick]] = [order[pick] ?? pick, order[last] ?? last];
  }
  return order;
}

/**
 * The wait before reconnect attempt `attempt` (1 for the first since the last good connection)
 * over `nodeCount` nodes: none while the walk still has untried nodes; when it comes back to
 * the node the run started on, a random wait between `lowMs` and a ceiling that doubles with
 * every failed walk, up to `highMs`.
 */
export function delayBeforeAttempt(attempt: number, nodeCount: number, bounds: BackoffBounds, random: () => number = Math.random): number {
  if (attempt % nodeCount !== 0) return 0;
  const walks = attempt / nodeCount;
  const ceiling = Math.min(bounds.highMs, bounds.lowMs * bounds.factor ** walks);
  return Math.round(bounds.lowMs + random() * (ceiling - bounds.lowMs));
}

/** The node a worker is on, and the one after it in its own order. */
export class NodeRotation<Node> {
  private readonly order: readonly number[];
  private position = 0;

  constructor(
    private readonly nodes: readonly [Node, ...Node[]],
    random: () => number = Math.random,
  ) {
    this.order = shuffledOrder(nodes.length, random);
  }

  get current(): Node {
    return this.nodes[this.order[this.position] ?? 0] ?? this.nodes[0];
  }

  get count(): number {
    return this.nodes.length;
  }

  /** Moves on to the next node (after the last, the first again) and returns it. */
  advance(): Node {
    this.position = (this.position + 1) % this.nodes.length;
    return this.current;
  }
}
