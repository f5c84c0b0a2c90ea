import type { ChannelModel } from "amqplib";
import { within } from "../within.ts";
import { abortConnection } from "./failover-connection.ts";
import { sessionStep } from "./session-errors.ts";

/**
 * Nobody can declare a queue named amq.*, so this routing key on the default exchange reaches
 * no queue: the broker confirms and drops the empty message, or closes the channel with 403
 * when the user may not write to the default exchange, as every reply must.
 */
const WRITE_CHECK_ROUTING_KEY = "amq.fibrpc.write-check";

/** A broker under a resource alarm stops reading a connection that publishes: this long, then go on unknowing. */
const WRITE_CHECK_TIMEOUT_MS = 2000;

/**
 * Finds out before consuming, not at the first reply, whether replies may be published: one
 * empty publish on a connection of its own, because a broker under a resource alarm stops
 * reading a connection that publishes (and the consumer's would then never start). Throws the
 * broker's 403 as a failed "publishing" step needing write; resolves when the publish was
 * confirmed or when the broker did not answer in time (nothing known: serving goes on).
 */
export async function checkWritePermission(open: () => Promise<ChannelModel>): Promise<void> {
  await sessionStep("publishing", "write", async () => {
    const connection = await open();
    connection.on("error", () => {});
    const checked = publishOnce(connection);
    let answered = false;
    try {
      answered =
        (await within(
          checked.then(() => true),
          WRITE_CHECK_TIMEOUT_MS,
        )) === true;
    } catch (refusal) {
      answered = true;
      throw refusal;
    } finally {
      // A blocked connection would never answer a close: drop it; otherwise say goodbye.
      if (!answered) {
        checked.catch(() => {}); // a late answer no longer matters
        abortConnection(connection);
      } else {
        void connection.close().catch(() => {});
      }
    }
  });
}

function publishOnce(connection: ChannelModel): Promise<void> {
  return connection.createConfirmChannel().then(
    (channel) =>
      new Promise<void>((resolve, reject) => {
        // A refusal closes the channel: its 'error' carries the 403, before the confirm fails.
        channel.once("error", reject);
        channel.publish("", WRITE_CHECK_ROUTING_KEY, Buffer.alloc(0), {}, (error: unknown) => {
          if (error === null || error === undefined) resolve();
          else reject(error instanceof Error ? error : new Error(`publish not confirmed: ${JSON.stringify(error)}`));
        });
      }),
  );
}
