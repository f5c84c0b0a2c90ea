import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import amqp, { type ChannelModel } from "amqplib";
import { uniqueQueue } from "../support/broker.ts";
import { RabbitCluster } from "../support/rabbit-cluster.ts";

/** The harness the cluster tests stand on: a quorum queue's leader dies, another takes over, the node comes back. */
describe("a throwaway 3-node cluster", () => {
  let cluster: RabbitCluster | undefined;
  const connections: ChannelModel[] = [];

  beforeAll(async () => {
    const started = performance.now();
    cluster = await RabbitCluster.start();
    console.log(`FIGURES cluster boot ${Math.round(performance.now() - started)} ms`);
  }, 120_000);
  afterAll(async () => {
    for (const connection of connections) await connection.close().catch(() => {});
    const started = performance.now();
    await cluster?.destroy();
    console.log(`FIGURES cluster teardown ${Math.round(performance.now() - started)} ms`);
  }, 30_000);

  const connect = async (url: string): Promise<ChannelModel> => {
    const connection = await amqp.connect(url);
    connection.on("error", () => {}); // the node behind it is killed on purpose
    connections.push(connection);
    return connection;
  };

  test("three nodes, each with its own URL, all running in one cluster", async () => {
    const nodes = cluster!;
    expect(nodes.urls).toHaveLength(3);
    expect(new Set(nodes.urls).size).toBe(3);
    expect((await nodes.runningNodes()).sort()).toEqual([...nodes.names].sort());
  });

  test("the leader of a quorum queue dies, another node leads, the node comes back into the cluster", async () => {
    const nodes = cluster!;
    const queue = uniqueQueue("harness");
    const declaring = await (await connect(nodes.urls[0]!)).createChannel();
    await declaring.assertQueue(queue, { durable: true, arguments: { "x-queue-type": "quorum" } });
    const leader = await nodes.waitForLeader(queue);
    const leaderIndex = nodes.indexOf(leader);

    // A consumer on a node that survives, seen by list_consumers with its node.
    const consumerIndex = (leaderIndex + 1) % 3;
    const consuming = await (await connect(nodes.urls[consumerIndex]!)).createChannel();
    consuming.on("error", () => {});
    const { consumerTag } = await consuming.consume(queue, () => {});
    expect(await nodes.consumers(queue)).toEqual([{ node: nodes.names[consumerIndex]!, consumerTag }]);
    expect(await nodes.consumersPerNode(queue)).toEqual(new Map([[nodes.names[consumerIndex]!, 1]]));

    const killedAt = performance.now();
    await nodes.kill(leaderIndex);
    expect(nodes.node(leaderIndex).osPid()).toBeUndefined();
    const newLeader = await nodes.waitForLeader(queue, (name) => name !== leader);
    console.log(`FIGURES new leader seen ${Math.round(performance.now() - killedAt)} ms after kill -9`);
    expect(nodes.names).toContain(newLeader);
    expect(await nodes.runningNodes()).not.toContain(leader);

    const restartedAt = performance.now();
    await nodes.restart(leaderIndex);
    console.log(`FIGURES killed node back in the cluster ${Math.round(performance.now() - restartedAt)} ms after restart`);
    expect((await nodes.runningNodes()).sort()).toEqual([...nodes.names].sort());
    expect(await nodes.consumers(queue)).toEqual([{ node: nodes.names[consumerIndex]!, consumerTag }]);
    await consuming.deleteQueue(queue);
  }, 90_000);
});
