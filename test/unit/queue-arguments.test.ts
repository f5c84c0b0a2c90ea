import { describe, expect, test } from "bun:test";
import { BrokerRefusedError, UsageError } from "../../src/errors.ts";
import { describeRequestLimits, parseInequivalentArgument, reportedQueueType } from "../../src/rpc/queue-arguments.ts";
import { queueNameProblem } from "../../src/rpc/queue.ts";
import { classifySessionFailure, SessionStepError } from "../../src/rpc/session-errors.ts";

/** As amqplib reports a refused declare, around RabbitMQ 3.10.8's own text (seen on the test broker). */
const refusal = (text: string) => `Operation failed: QueueDeclare; 406 (PRECONDITION-FAILED) with message "PRECONDITION_FAILED - inequivalent arg ${text}"`;

describe("parseInequivalentArgument", () => {
  test("an integer argument, whatever its AMQP integer type", () => {
    expect(
      parseInequivalentArgument(refusal("'x-message-ttl' for queue 'q' in vhost '/': received none but current is the value '5000' of type 'short'")),
    ).toEqual({ name: "x-message-ttl", current: 5000 });
    expect(
      parseInequivalentArgument(refusal("'x-max-length' for queue 'q' in vhost '/': received none but current is the value '10' of type 'byte'"))?.current,
    ).toBe(10);
    expect(
      parseInequivalentArgument(refusal("'x-expires' for queue 'q' in vhost '/': received none but current is the value '600000' of type 'signedint'"))
        ?.current,
    ).toBe(600000);
  });

  test("strings, booleans, an argument not set, and the fields (durable, the queue type)", () => {
    expect(
      parseInequivalentArgument(refusal("'x-overflow' for queue 'q' in vhost '/': received none but current is the value 'reject-publish' of type 'longstr'"))
        ?.current,
    ).toBe("reject-publish");
    expect(
      parseInequivalentArgument(refusal("'x-single-active-consumer' for queue 'q' in vhost '/': received none but current is the value 'true' of type 'bool'"))
        ?.current,
    ).toBe(true);
    expect(
      parseInequivalentArgument(
        refusal("'x-single-active-consumer' for queue 'q' in vhost '/': received the value 'fibrpc-probe' of type 'longstr' but current is none"),
      ),
    ).toEqual({ name: "x-single-active-consumer", current: undefined });
    expect(parseInequivalentArgument(refusal("'durable' for queue 'q' in vhost '/': received 'true' but current is 'false'"))).toEqual({
      name: "durable",
      current: false,
    });
    expect(parseInequivalentArgument(refusal("'x-queue-type' for queue 'q' in vhost '/': received 'quorum' but current is 'stream'"))).toEqual({
      name: "x-queue-type",
      current: "stream",
    });
  });

  test("a queue name with quotes and 'but current is' in it does not confuse it", () => {
    expect(
      parseInequivalentArgument(
        refusal("'x-max-length' for queue 'a 'b' but current is 'c' in vhost '/': received none but current is the value '3' of type 'byte'"),
      )?.current,
    ).toBe(3);
  });

  test("anything else, or a value it could not send back as it was, is not read", () => {
    expect(
      parseInequivalentArgument(
        "Operation failed: QueueDeclare; 406 (PRECONDITION-FAILED) with message \"PRECONDITION_FAILED - invalid arg 'x-single-active-consumer' for queue 'q' in vhost '/': {unacceptable_type,longstr}\"",
      ),
    ).toBeUndefined();
    expect(
      parseInequivalentArgument(refusal("'x-weird' for queue 'q' in vhost '/': received none but current is the value '1.5' of type 'double'")),
    ).toBeUndefined();
    expect(parseInequivalentArgument("Channel closed by server: 403 (ACCESS-REFUSED)")).toBeUndefined();
  });

  test("reportedQueueType names the type only when the queue type was the difference", () => {
    expect(reportedQueueType(refusal("'x-queue-type' for queue 'q' in vhost '/': received 'quorum' but current is 'stream'"))).toBe("stream");
    expect(reportedQueueType(refusal("'x-max-length' for queue 'q' in vhost '/': received none but current is the value '3' of type 'byte'"))).toBeUndefined();
  });
});

describe("describeRequestLimits", () => {
  test("a queue without limits says nothing", () => {
    expect(describeRequestLimits({})).toEqual([]);
    expect(describeRequestLimits({ "x-queue-type": "quorum", "x-dead-letter-exchange": "dlx" })).toEqual([]);
  });

  test("each limit that can drop or refuse a request is named with its argument", () => {
    const limits = describeRequestLimits({
      "x-max-length": 10,
      "x-overflow": "reject-publish",
      "x-message-ttl": 5000,
      "x-delivery-limit": 3,
      "x-expires": 60000,
    });
    expect(limits).toHaveLength(4);
    expect(limits.join("\n")).toContain("at most 10 requests (x-max-length; new requests are refused when it is full, x-overflow reject-publish)");
    expect(limits.join("\n")).toContain("5000 ms are dropped (x-message-ttl)");
    expect(limits.join("\n")).toContain("more than 3 times is dropped (x-delivery-limit)");
    expect(limits.join("\n")).toContain("(x-expires)");
    expect(describeRequestLimits({ "x-max-length-bytes": 100 })[0]).toContain("the oldest requests are dropped when it is full");
  });
});

describe("queueNameProblem", () => {
  test("255 bytes is a name, 256 is not, counting UTF-8 bytes; empty is not", () => {
    expect(queueNameProblem("q".repeat(255))).toBeUndefined();
    expect(queueNameProblem("q".repeat(256))).toContain("256 bytes");
    expect(queueNameProblem("é".repeat(128))).toContain("256 bytes");
    expect(queueNameProblem("")).toContain("empty");
  });
});

describe("classifySessionFailure", () => {
  const NODE = "amqp://app:S3cret@rabbit:5672";
  const refused = Object.assign(
    new Error("Operation failed: BasicConsume; 403 (ACCESS-REFUSED) with message \"ACCESS_REFUSED - access to queue 'q' in vhost '/' refused for user 'app'\""),
    { code: 403 },
  );

  test("a 403 after the login names the permission the step needed, and is final", () => {
    for (const [step, permission] of [
      ["declaring the queue", "configure"],
      ["consuming", "read"],
      ["publishing", "write"],
    ] as const) {
      const failure = classifySessionFailure(new SessionStepError(step, permission, refused), "q", NODE);
      expect(failure.retryable).toBe(false);
      expect(failure.error).toBeInstanceOf(BrokerRefusedError);
      expect(failure.error.message).toContain(`lacks ${permission} permission on queue 'q'`);
      expect(failure.error.message).not.toContain("password");
      expect(failure.error.message).not.toContain("S3cret");
    }
  });

  test("an exclusive queue (405), a refused request (406, 540) and a field amqplib cannot encode are final too", () => {
    const withCode = (code: number) => Object.assign(new Error(`closed ${code}`), { code });
    expect(classifySessionFailure(new SessionStepError("consuming", "read", withCode(405)), "q", NODE)).toMatchObject({
      retryable: false,
      error: { kind: "refused" },
    });
    expect(classifySessionFailure(new SessionStepError("consuming", "read", withCode(406)), "q", NODE).error).toBeInstanceOf(UsageError);
    expect(classifySessionFailure(new SessionStepError("consuming", "read", withCode(540)), "q", NODE).retryable).toBe(false);
    const encode = new TypeError("Field 'queue' is the wrong type; must be a string (up to 255 chars)");
    expect(classifySessionFailure(new SessionStepError("looking up the queue", undefined, encode), "q", NODE)).toMatchObject({
      retryable: false,
      error: { kind: "usage" },
    });
  });

  test("a lost connection, a queue deleted meanwhile (404) or an internal error are waited out", () => {
    const lost = new Error("Channel ended, no reply will be forthcoming");
    expect(classifySessionFailure(new SessionStepError("consuming", "read", lost), "q", NODE).retryable).toBe(true);
    expect(classifySessionFailure(new SessionStepError("consuming", "read", Object.assign(new Error("404"), { code: 404 })), "q", NODE).retryable).toBe(true);
    expect(classifySessionFailure(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }), "q", NODE)).toMatchObject({
      retryable: true,
      error: { kind: "unreachable" },
    });
  });
});
