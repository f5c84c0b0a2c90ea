/** A Prometheus-like scraper for `serve --http`: one GET /metrics a second while the worker runs. */

/** A TCP port nothing listens on right now, for `--http 127.0.0.1:PORT`. */
export function freePort(): number {
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const { port } = probe;
  probe.stop(true);
  return port;
}

/** Scrapes every `everyMs` until stopped; returns the function that stops it and says how many scrapes succeeded. */
export function scrapeEvery(port: number, everyMs = 1000): () => number {
  let scrapes = 0;
  const timer = setInterval(() => {
    void fetch(`http://127.0.0.1:${port}/metrics`)
      .then(async (response) => {
        if (response.ok && (await response.text()).includes("fibrpc_requests_total")) scrapes++;
      })
      .catch(() => {});
  }, everyMs);
  return () => {
    clearInterval(timer);
    return scrapes;
  };
}
