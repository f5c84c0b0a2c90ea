// consola/core, not consola: the main entry imports tty and readline at start-up, which every
// command of a compiled binary would pay for (~20 ms) even when it never logs.
import { createConsola, LogLevels, type ConsolaReporter, type LogObject } from "consola/core";
import type { LogFields, WorkerLog } from "./rpc/worker-log.ts";
import { sanitize } from "./cli/secrets.ts";

export type LogFormat = "pretty" | "json";
export const LOG_LEVELS = ["error", "warn", "info", "debug"] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];

/**
 * The message as it may be written: a line of the log may quote what a peer sent (a
 * correlation id, a reply address), so control characters are escaped (one entry stays one
 * line, and a terminal obeys nothing in it) and no known broker password is left in it.
 */
function messageOf(entry: LogObject): string {
  return sanitize(entry.args.map(String).join(" "));
}

/** One JSON object per line, for log shippers: {"time":…,"level":…,"msg":…}, then the line's fields (trace_id, …). */
const jsonReporter: ConsolaReporter = {
  log(entry) {
    const fields = (entry as LogObject & { fields?: LogFields }).fields;
    process.stderr.write(`${JSON.stringify({ time: entry.date.toISOString(), level: entry.type, msg: messageOf(entry), ...fields })}\n`);
  },
};

const LEVEL_COLOURS: Record<string, string> = { error: "31", fatal: "31", warn: "33", info: "36", success: "32", debug: "90" };

/** `2026-11-24T18:00:00.000Z WARN  message`, the level coloured only on a terminal without NO_COLOR. */
function textReporter(colour: boolean): ConsolaReporter {
  return {
    log(entry) {
      const level = entry.type.toUpperCase().padEnd(5);
      const shown = colour ? `\u001b[${LEVEL_COLOURS[entry.type] ?? "0"}m${level}\u001b[0m` : level;
      process.stderr.write(`${entry.date.toISOString()} ${shown} ${messageOf(entry)}\n`);
    },
  };
}

/** The worker's logger: on stderr (stdout is for results), text or JSON lines. */
export function createWorkerLog(format: LogFormat, level: LogLevelName): WorkerLog {
  const colour = !process.env.NO_COLOR && process.stderr.isTTY === true;
  const consola = createConsola({
    level: LogLevels[level],
    reporters: [format === "json" ? jsonReporter : textReporter(colour)],
  });
  // A line with fields goes to consola as a log object: they reach the reporter as `entry.fields`.
  const line = (message: string, fields: LogFields | undefined) => (fields === undefined ? message : { message, fields });
  return {
    info: (message, fields) => consola.info(line(message, fields)),
    warn: (message, fields) => consola.warn(line(message, fields)),
    error: (message, fields) => consola.error(line(message, fields)),
    debug: (message, fields) => consola.debug(line(message, fields)),
    debugEnabled: level === "debug",
  };
}
