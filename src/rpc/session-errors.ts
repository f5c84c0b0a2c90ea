import { redactUrl } from "../redact.ts";
import { BrokerRefusedError, FibrpcError, UsageError } from "../errors.ts";
import { classifyBrokerError } from "./broker.ts";

/** The permission each step of opening a session needs (RabbitMQ's 403 does not say which). */
export type Permission = "configure" | "read" | "write";

/** One step of opening a session failed: which one, and the permission it needed. */
export class SessionStepError extends Error {
  constructor(
    readonly step: string,
    readonly permission: Permission | undefined,
    readonly reason: unknown,
  ) {
    super(`${step}: ${reason instanceof Error ? reason.message : String(reason)}`, { cause: reason });
    this.name = "SessionStepError";
  }
}

/** The queue is one fibrpc cannot serve (a stream): no retry will change that. */
export class UnservableQueueError extends UsageError {}

/** Runs one step, labelling its failure with the step and the permission it needs. */
export async function sessionStep<T>(step: string, permission: Permission | undefined, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof FibrpcError) throw error;
    throw new SessionStepError(step, permission, error);
  }
}

/** What a failure to open a session means: the error to show, and whether waiting may fix it. */
export interface SessionFailure {
  error: FibrpcError;
  /** False for what only a change of configuration fixes (permissions, a queue fibrpc cannot use). */
  retryable: boolean;
}

const WHAT_NEEDS: Record<Permission, string> = {
  configure: "to declare it",
  read: "to consume from it",
  write: "to publish replies (write on the default exchange, amq.default)",
};

/**
 * Classifies a failure of opening a session, after a login that succeeded: a refusal names the
 * permission the failed step needed, not the login; a channel error that no retry can change
 * (403, 405, 406, 530, 540, or a request amqplib refused to encode) is final at start-up.
 */
export function classifySessionFailure(error: unknown, queue: string, nodeUrl: string): SessionFailure {
  if (error instanceof FibrpcError) return { error, retryable: !(error instanceof UsageError || error.kind === "refused") };
  if (!(error instanceof SessionStepError)) return { error: classifyBrokerError(error, nodeUrl), retryable: true };
  const code = replyCode(error.reason);
  const where = redactUrl(nodeUrl);
  const detail = error.reason instanceof Error ? error.reason.message : String(error.reason);
  if (code === 403 && error.permission !== undefined) {
    return {
      error: new BrokerRefusedError(
        `broker at ${where} accepted the login but refused ${error.step}: this user lacks ${error.permission} permission on queue '${queue}', needed ${WHAT_NEEDS[error.permission]}`,
        { cause: error.reason },
      ),
      retryable: false,
    };
  }
  if (code === 403 || code === 530) {
    return { error: new BrokerRefusedError(`broker at ${where} refused ${error.step}: ${detail}`, { cause: error.reason }), retryable: false };
  }
  if (code === 405) {
    return {
      error: new BrokerRefusedError(`queue '${queue}' is exclusive to another connection (405 RESOURCE_LOCKED); fibrpc serve cannot consume from it`, {
        cause: error.reason,
      }),
      retryable: false,
    };
  }
  if (code === 406 || code === 540) {
    return { error: new UsageError(`the broker at ${where} refused ${error.step} on queue '${queue}': ${detail}`), retryable: false };
  }
  if (error.reason instanceof TypeError) {
    // amqplib refuses to encode a field (a name over 255 bytes, a bad argument): nothing was sent.
    return { error: new UsageError(`cannot ${error.step} on queue '${queue}': ${detail}`), retryable: false };
  }
  return { error: classifyBrokerError(error.reason, nodeUrl), retryable: true };
}

function replyCode(error: unknown): number | undefined {
  return typeof error === "object" && error !== null && "code" in error && typeof error.code === "number" ? error.code : undefined;
}
