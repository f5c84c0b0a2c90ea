/** Structured facts a log line carries besides its text (trace ids, …); JSON logs print them as fields. */
export type LogFields = Readonly<Record<string, string | number | boolean>>;

/** Where the worker reports what happens, line by line; the serve command plugs its logger in. */
export interface WorkerLog {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
  /** False when debug lines are not shown, so a line per request is not even built; undefined: shown. */
  readonly debugEnabled?: boolean;
}
