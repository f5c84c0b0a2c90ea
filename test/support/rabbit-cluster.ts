/**
 * A throwaway RabbitMQ cluster of three nodes (test/support/rabbit-node.ts each, ports in
 * 58000-60999 so they never meet single-node tests), for tests that kill a node under load.
 * Needs root and the Debian rabbitmq-server package; ~410 MB while it runs. All nodes share the
 * rabbitmq user's cookie (/var/lib/rabbitmq/.erlang.cookie), as Debian's wrappers run as that user.
 */
import { RabbitNode } from "./rabbit-node.ts";

const CLUSTER_PORTS: [number, number] = [58_000, 60_999];

/** One consumer of a queue, with the node its channel lives on (the node its client connected to). */
export interface QueueConsumer {
  node: string;
  consumerTag: string;
}

export class RabbitCluster {
  private constructor(readonly nodes: RabbitNode[]) {}

  /** Boots `size` nodes side by side, then joins the others to the first. */
  static async start(options: { label?: string; size?: number } = {}): Promise<RabbitCluster> {
    const size = options.size ?? 3;
    const nodes: RabbitNode[] = [];
    const cluster = new RabbitCluster(nodes);
    try {
      while (nodes.length < size) {
        const node = await RabbitNode.prepare({ label: `${options.label ?? "cluster"}${nodes.length + 1}`, portRange: CLUSTER_PORTS });
        // Ports are only checked free, not held, until the nodes boot: two nodes must not draw the same.
        if (nodes.some((other) => other.port === node.port)) await node.destroy({ hard: true });
        else nodes.push(node);
      }
      await Promise.all(nodes.map((node) => node.boot(60_000)));
      const [seed, ...others] = nodes;
      if (seed === undefined) throw new Error("a cluster needs at least one node");
      // stop_app and start_app in parallel; join_cluster one at a time (each changes the schema).
      await Promise.all(others.map((node) => node.rabbitmqctl("stop_app")));
      for (const node of others) await node.rabbitmqctl("join_cluster", seed.nodeName);
      await Promise.all(others.map((node) => node.rabbitmqctl("start_app")));
      await Promise.all(nodes.map((node) => node.rabbitmqctl("await_startup")));
      await cluster.waitUntilRunning(nodes.map((node) => node.nodeName));
      return cluster;
    } catch (error) {
      const logs = nodes.map((node) => `--- ${node.nodeName} (pid ${node.osPid() ?? "none"}), last log lines:\n${node.logTail()}`);
      await cluster.destroy();
      throw new Error(`${error instanceof Error ? error.message : String(error)}\n${logs.join("\n")}`, { cause: error });
    }
  }

  /** amqp://guest:guest@127.0.0.1:PORT of each node, in node order. */
  get urls(): string[] {
    return this.nodes.map((node) => node.url);
  }

  get names(): string[] {
    return this.nodes.map((node) => node.nodeName);
  }

  node(index: number): RabbitNode {
    const node = this.nodes[index];
    if (node === undefined) throw new Error(`no node ${index} in a cluster of ${this.nodes.length}`);
    return node;
  }

  /** The index of the node named `name` (a full node name, as leaderOf() returns). */
  indexOf(name: string): number {
    const index = this.names.indexOf(name);
    if (index < 0) throw new Error(`${name} is not a node of this cluster (${this.names.join(", ")})`);
    return index;
  }

  /** kill -9 of node `index`'s Erlang VM; returns once the process is gone. */
  async kill(index: number): Promise<void> {
    if (!(await this.node(index).kill())) throw new Error(`node ${this.node(index).nodeName} was not running`);
  }

  /** Starts a killed node again and waits until the others count it as running in the cluster. */
  async restart(index: number, timeoutMs = 60_000): Promise<void> {
    const node = this.node(index);
    await node.boot(timeoutMs);
    await node.rabbitmqctl("await_startup");
    await this.waitUntilRunning(this.names, timeoutMs);
  }

  /** Runs rabbitmqctl (or `tool`, e.g. rabbitmq-queues) against the first node that answers. */
  async ctl(args: string[], tool = "rabbitmqctl"): Promise<string> {
    const failures: string[] = [];
    for (const node of this.nodes) {
      if (node.osPid() === undefined) continue;
      try {
        return await node.run(tool, ...args);
      } catch (error) {
        failures.push(String(error));
      }
    }
    throw new Error(`no node of the cluster answered ${tool} ${args.join(" ")}: ${failures.join("; ") || "none running"}`);
  }

  /** Node names the cluster counts as running, as a live node sees it. */
  async runningNodes(): Promise<string[]> {
    const status = JSON.parse(await this.ctl(["cluster_status", "--formatter", "json"])) as { running_nodes?: string[] };
    return status.running_nodes ?? [];
  }

  private async waitUntilRunning(names: string[], timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let running: string[] = [];
    while (Date.now() < deadline) {
      running = await this.runningNodes().catch(() => []);
      if (names.every((name) => running.includes(name))) return;
      await Bun.sleep(200);
    }
    throw new Error(`cluster nodes not all running after ${timeoutMs} ms: running ${running.join(", ") || "none"}, wanted ${names.join(", ")}`);
  }

  /**
   * The node leading quorum queue `queue` now, from the members' own Raft state
   * (`rabbitmq-queues quorum_status`); undefined while none reports itself leader (an election).
   */
  async leaderOf(queue: string): Promise<string | undefined> {
    const members = JSON.parse(await this.ctl(["quorum_status", queue, "--formatter", "json"], "rabbitmq-queues")) as Array<Record<string, string>>;
    return members.find((member) => member["Raft State"] === "leader")?.["Node Name"];
  }

  /** Polls leaderOf() until a leader is there and `accept` likes it; returns it. */
  async waitForLeader(queue: string, accept: (leader: string) => boolean = () => true, timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const leader = await this.leaderOf(queue).catch(() => undefined);
      if (leader !== undefined && accept(leader)) return leader;
      await Bun.sleep(50);
    }
    throw new Error(`no acceptable leader for ${queue} within ${timeoutMs} ms`);
  }

  /**
   * The consumers of `queue` (on vhost /) with the node each one's channel lives on. It asks what
   * `list_consumers` asks (no lag for quorum queues, unlike `list_queues … consumers` on 3.10),
   * through `eval`, because list_consumers prints a channel pid whose node cannot be told.
   */
  async consumers(queue: string): Promise<QueueConsumer[]> {
    if (!/^[\w.:-]+$/.test(queue)) throw new Error(`queue name ${JSON.stringify(queue)} would need escaping in an Erlang binary`);
    const output = await this.ctl([
      "eval",
      "[{node(proplists:get_value(channel_pid, C)), proplists:get_value(consumer_tag, C)} || " +
        `C <- rabbit_amqqueue:consumers_all(<<"/">>), element(4, proplists:get_value(queue_name, C)) =:= <<"${queue}">>].`,
    ]);
    // [{'node@host',<<"amq.ctag-…">>}, …]
    return [...output.matchAll(/\{'?([^',{}]+)'?,<<"([^"]*)">>\}/g)].map((match) => ({ node: match[1] ?? "", consumerTag: match[2] ?? "" }));
  }

  /** How many consumers of `queue` each node carries (nodes without any are absent). */
  async consumersPerNode(queue: string): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    for (const consumer of await this.consumers(queue)) counts.set(consumer.node, (counts.get(consumer.node) ?? 0) + 1);
    return counts;
  }

  /** Kills every node and removes their folders. Safe to call twice, and after a failed start. */
  async destroy(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.destroy({ hard: true })));
  }
}
