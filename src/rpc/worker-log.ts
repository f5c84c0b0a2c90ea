/** Where the worker reports what happens, line by line; the serve command plugs its logger in. */
export interface WorkerLog {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  debug(message: string): void;
}
