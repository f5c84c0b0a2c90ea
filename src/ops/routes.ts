import type { WorkerState } from "../rpc/worker-events.ts";

/** What `serve --http` answers; pure, so the HTTP edge only turns these into responses. */
export type Route = "metrics" | "livez" | "readyz";

export type Routing = { kind: "found"; route: Route } | { kind: "not-found" } | { kind: "method-not-allowed"; allow: string };

const ROUTES: Record<string, Route> = { "/metrics": "metrics", "/livez": "livez", "/readyz": "readyz" };

/** Read-only resources: GET, and HEAD for checkers that only want the status. */
export const ALLOWED_METHODS = "GET, HEAD";

export function routeRequest(method: string, pathname: string): Routing {
  const route = ROUTES[pathname];
  if (route === undefined) return { kind: "not-found" };
  if (method !== "GET" && method !== "HEAD") return { kind: "method-not-allowed", allow: ALLOWED_METHODS };
  return { kind: "found", route };
}

const NOT_READY_BECAUSE: Record<Exclude<WorkerState, "consuming">, string> = {
  connecting: "connecting to the broker",
  reconnecting: "reconnecting to the broker",
  draining: "draining: shutting down, finishing requests in flight",
  stopped: "stopped",
};

/** Ready only while consuming: a worker that cannot take requests should get no traffic and no new peers. */
export function readiness(state: WorkerState): { ready: boolean; line: string } {
  return state === "consuming" ? { ready: true, line: "ready: consuming" } : { ready: false, line: `not ready: ${NOT_READY_BECAUSE[state]}` };
}
