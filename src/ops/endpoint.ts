/**
 * `serve --http`: one small HTTP listener on Bun.serve for operators: /metrics for Prometheus,
 * /livez and /readyz for Kubernetes probes. Loaded only when --http is given (serve.ts imports
 * it lazily), so no other command and no plain `serve` pays for it.
 */
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { CannotListenError } from "../errors.ts";
import type { WorkerStatus } from "../rpc/worker-events.ts";
import type { WorkerLog } from "../rpc/worker-log.ts";
import { COMMIT, VERSION } from "../version.ts";
import { CONTENT_TYPES, negotiateFormat, render } from "./exposition.ts";
import { formatListenAddress, parseListenAddress, type ListenAddress } from "./listen-address.ts";
import { processFamilies } from "./process-metrics.ts";
import { readiness, routeRequest, type Route } from "./routes.ts";
import { WorkerMetrics } from "./worker-metrics.ts";

/** The part of the worker the endpoint reads (FibServer has it). */
export interface ObservedWorker {
  status(): WorkerStatus;
}

type HttpServer = ReturnType<typeof Bun.serve>;

const PLAIN_TEXT = "text/plain; charset=utf-8";
/** Probes and scrapes want the state of now, never a cached one. */
const NO_STORE = "no-store";

export class OperatorEndpoint {
  /** Pass to the worker as its observer: it counts what the worker reports. */
  readonly metrics: WorkerMetrics;
  private server: HttpServer | undefined;

  private constructor(
    private readonly address: ListenAddress,
    queue: string,
  ) {
    this.metrics = new WorkerMetrics(queue, { version: VERSION, commit: COMMIT });
  }

  /** Checks the address (a UsageError, exit 2, when it is not one) without listening yet. */
  static prepare(addressText: string, queue: string): OperatorEndpoint {
    return new OperatorEndpoint(parseListenAddress(addressText), queue);
  }

  /**
   * Listens, or throws CannotListenError (port in use, address not this host's). Call it before
   * the worker starts consuming, so a misconfigured probe port stops the pod at once instead
   * of leaving a worker that serves and can never be seen ready. Returns the address listened on.
   */
  async listen(worker: ObservedWorker, log: WorkerLog): Promise<string> {
    const { hostname, port } = this.address;
    try {
      this.server = Bun.serve({
        ...(hostname === undefined ? {} : { hostname }),
        port,
        // Bun's default lets a second process bind the same port (SO_REUSEPORT) and splits the
        // connections between the two: scrapes and probes would land on either worker at random.
        reusePort: false,
        // Bun's development mode answers a thrown error with an HTML page and a stack trace.
        development: false,
        maxRequestBodySize: 16 * 1024,
        fetch: (request) => this.answer(request, worker),
        error: (error) => {
          log.error(`HTTP endpoint: ${error.message}`);
          return new Response("internal error\n", { status: 500, headers: { "content-type": PLAIN_TEXT } });
        },
      });
    } catch (error) {
      throw new CannotListenError(await this.whyNot(error), { cause: error });
    }
    return formatListenAddress(this.address, this.server.port ?? port);
  }

  /** Stops listening at once (the process is about to exit; a scrape in progress gets a closed connection). */
  stop(): void {
    void this.server?.stop(true);
    this.server = undefined;
  }

  private answer(request: Request, worker: ObservedWorker): Response {
    const routing = routeRequest(request.method, new URL(request.url).pathname);
    if (routing.kind === "not-found") return text(404, "not found: try /metrics, /livez or /readyz");
    if (routing.kind === "method-not-allowed") return text(405, `method not allowed: use ${routing.allow}`, { allow: routing.allow });
    return this.respond(routing.route, request, worker);
  }

  private respond(route: Route, request: Request, worker: ObservedWorker): Response {
    if (route === "livez") return text(200, "alive"); // answering at all shows the event loop turns
    const status = worker.status();
    if (route === "readyz") {
      const { ready, line } = readiness(status.state);
      return text(ready ? 200 : 503, line);
    }
    const format = negotiateFormat(request.headers.get("accept"));
    const body = render([...this.metrics.families(status), ...processFamilies()], format);
    return new Response(body, { headers: { "content-type": CONTENT_TYPES[format], "cache-control": NO_STORE } });
  }

  /** One line saying what is wrong with the address, from Bun's less telling error. */
  private async whyNot(error: unknown): Promise<string> {
    const where = formatListenAddress(this.address);
    const code = typeof error === "object" && error !== null && "code" in error ? String(error.code) : "";
    if (code === "EADDRINUSE") return `--http ${where}: port ${this.address.port} is already in use (another fibrpc serve?)`;
    if (code === "EACCES") return `--http ${where}: not allowed to listen on port ${this.address.port} (ports below 1024 need privileges)`;
    if (code === "EADDRNOTAVAIL") return `--http ${where}: ${this.address.hostname ?? "that"} is not an address of this host`;
    const { hostname } = this.address;
    if (hostname !== undefined && isIP(hostname) === 0) {
      const resolves = await lookup(hostname).then(
        () => true,
        () => false,
      );
      if (!resolves) return `--http ${where}: cannot resolve host name '${hostname}'`;
    }
    const detail = error instanceof Error ? error.message : String(error);
    return `--http ${where}: cannot listen (${detail})`;
  }
}

function text(status: number, line: string, headers: Record<string, string> = {}): Response {
  return new Response(`${line}\n`, { status, headers: { "content-type": PLAIN_TEXT, "cache-control": NO_STORE, ...headers } });
}
