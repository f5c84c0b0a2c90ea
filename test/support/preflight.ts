/**
 * Imported first by every test file that needs the broker and the binary (not a bunfig.toml
 * preload, so `npm run test:unit` needs neither): fails the file at once, with a message saying
 * what to do, when the broker or the binary is missing, instead of every test timing out.
 */
import { existsSync } from "node:fs";
import amqp from "amqplib";
import { BROKER_URL } from "./broker.ts";
import { FIBRPC } from "./fibrpc.ts";

if (!existsSync(FIBRPC)) {
  throw new Error(`${FIBRPC} is missing: run 'npm test' (it builds first) or 'npm run build'`);
}

try {
  const connection = await amqp.connect(BROKER_URL, { timeout: 3000 });
  await connection.close();
} catch (error) {
  throw new Error(
    `no RabbitMQ at ${BROKER_URL.replace(/:[^:@/]*@/, ":***@")} (${String(error)}).\n` +
      "Start one with 'rabbitmq-server -detached' (Debian package rabbitmq-server), or set AMQP_URL; " +
      "'npm test' runs scripts/test-env.sh, which does both on a machine where it may.",
  );
}
