/**
 * `fibrpc serve --http` for tests: started on a port the system picks (`127.0.0.1:0`, read back
 * from its log line), so parallel runs never fight over one; plus reading /metrics as numbers.
 */
import { ServeProcess } from "./fibrpc.ts";

export interface HttpServe {
  serve: ServeProcess;
  /** http://127.0.0.1:PORT */
  base: string;
}

const LISTENING = /HTTP on 127\.0\.0\.1:(\d+):/;

/** Starts serve with `--http 127.0.0.1:0`; waits for `waitFor` (default: consuming) after the HTTP line. */
export async function startHttpServe(args: string[], env: Record<string, string | undefined> = {}, waitFor?: RegExp): Promise<HttpServe> {
  const serve = await ServeProcess.start([...args, "--http", "127.0.0.1:0"], env, { waitFor: waitFor ?? /consuming on queue/ });
  const port = LISTENING.exec(serve.log)?.[1];
  if (port === undefined) {
    await serve.stop("SIGKILL");
    throw new Error(`fibrpc serve did not say where it listens; its stderr:\n${serve.log}`);
  }
  return { serve, base: `http://127.0.0.1:${port}` };
}

/** The samples of a text-format scrape, keyed as printed (`name{labels}`), comments left out. */
export function parseSamples(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const cut = line.lastIndexOf(" ");
    samples.set(line.slice(0, cut), Number(line.slice(cut + 1)));
  }
  return samples;
}

export async function scrape(base: string): Promise<Map<string, number>> {
  const response = await fetch(`${base}/metrics`);
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}`);
  return parseSamples(await response.text());
}

export async function probe(base: string, path: "/readyz" | "/livez"): Promise<{ status: number; body: string }> {
  const response = await fetch(`${base}${path}`);
  return { status: response.status, body: await response.text() };
}

/** The label set of a series the way serve prints it: queue first, then the rest in order. */
export function series(name: string, labels: Record<string, string> = {}): string {
  const pairs = Object.entries(labels).map(([label, value]) => `${label}="${value.replace(/[\\"\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`))}"`);
  return pairs.length === 0 ? name : `${name}{${pairs.join(",")}}`;
}
