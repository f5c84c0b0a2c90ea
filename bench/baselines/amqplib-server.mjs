// A raw amqplib RPC server on Node, written for fibrpc's benchmark in the style of the
// RabbitMQ tutorial's rpc_server.js: declare the queue, prefetch, reply with the same
// correlation id, ack after publishing. No validation, no error replies, no recovery:
// the floor of what the same library does on Node, to compare fibrpc's worker against.
// noDelay: amqplib leaves Nagle's algorithm on by default, which alone costs this server
// more than half its throughput at 64 in flight (4.9k vs 11.4k calls/s here).
//
//   node bench/baselines/amqplib-server.mjs [queue] [prefetch]
import amqp from "amqplib";

const queue = process.argv[2] ?? "rpc_queue";
const prefetch = Number(process.argv[3] ?? 1);

function fibonacci(n) {
  let a = 0n;
  let b = 1n;
  for (let i = 0; i < n; i++) [a, b] = [b, a + b];
  return a;
}

const connection = await amqp.connect(process.env.AMQP_URL || "amqp://guest:guest@localhost:5672", { noDelay: true });
const channel = await connection.createChannel();
// The queue as another program declared it (the benchmark declares a classic or a quorum queue
// first); declared here, durable, only when missing (a passive declare of a missing queue closes its channel).
const probe = await connection.createChannel();
probe.on("error", () => {});
if (
  !(await probe.checkQueue(queue).then(
    () => true,
    () => false,
  ))
)
  await channel.assertQueue(queue, { durable: true });
await channel.prefetch(prefetch);
console.error(` [x] Awaiting RPC requests on ${queue} (prefetch ${prefetch})`);
await channel.consume(queue, (message) => {
  const n = Number.parseInt(message.content.toString(), 10);
  channel.sendToQueue(message.properties.replyTo, Buffer.from(fibonacci(n).toString()), {
    correlationId: message.properties.correlationId,
  });
  channel.ack(message);
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => connection.close().finally(() => process.exit(0)));
