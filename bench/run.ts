/**
 * `npm run bench`: fibrpc side by side with tutorial-style baselines on the local broker, in
 * one run, printed as one table of absolute figures and ratios. See docs/benchmark.md.
 *
 *   bun bench/run.ts [--rounds 3] [--seconds 3] [--rebuild] [--defaults]
 *
 * --defaults adds the study behind fibrpc's defaults: prefetch 1/16/64/128/256 and a classic
 * vs a quorum queue, each at 1 and 64 in flight.
 */
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { fibonacci } from "../src/fib.ts";
import { fibrpcBench, goClientLoad, median, wallTimes } from "./lib/measure.ts";
import { deleteQueues, peakRssDuring, rssMb, startServer, stopServer, type RunningServer, type ServerSpec } from "./lib/processes.ts";
import { buildReport, type Figures, type ServerFigures } from "./lib/report.ts";
import { freePort, scrapeEvery } from "./lib/scrape.ts";
import { BUILD_DIR, BUN, FIBRPC, GO_CLIENT, GO_SERVER, log, prepare } from "./lib/setup.ts";
import { shellLoop, streamThroughCall } from "./lib/stream.ts";
import { formatTable, ms, rate } from "./lib/table.ts";

const { values: flags } = parseArgs({
  options: {
    rounds: { type: "string", default: "3" },
    seconds: { type: "string", default: "3" },
    rebuild: { type: "boolean", default: false },
    defaults: { type: "boolean", default: false },
  },
});
const ROUNDS = Math.max(1, Number(flags.rounds));
const LOAD_MS = Math.max(500, Number(flags.seconds) * 1000);
const N = "30";
const DRIVE_REQUESTS = 40_000;
/** `seq 1 100000`-style input for `call -`, as issue #15 measures it. */
const STREAM_LINES = 100_000;
const STREAM_WINDOWS = [16, 64, 128, 256];
const SHELL_LOOP_CALLS = 200;
const RUN_ID = crypto.randomUUID().slice(0, 6);
const queueFor = (key: string): string => `fibrpc-bench-${key}-${RUN_ID}`;

const tools = await prepare({ rebuild: flags.rebuild });
const httpPort = freePort();
const fibrpcServe =
  (...extra: string[]) =>
  (q: string) => [FIBRPC, "serve", "--queue", q, "--max-n", "1000000", "--log-level", "warn", ...extra];

const SERVERS: ServerSpec[] = [
  { key: "fibrpc", label: "fibrpc serve (prefetch 64)", kind: "classic", argv: fibrpcServe() },
  { key: "go-tutorial", label: "Go tutorial (prefetch 1)", kind: "classic", argv: (q) => [GO_SERVER, "-queue", q, "-prefetch", "1"] },
  { key: "go-tuned", label: "Go tuned (prefetch 64)", kind: "classic", argv: (q) => [GO_SERVER, "-queue", q, "-prefetch", "64"] },
  ...(tools.node
    ? [
        {
          key: "amqplib-node",
          label: "amqplib on Node (prefetch 64)",
          kind: "classic" as const,
          argv: (q: string) => ["node", "bench/baselines/amqplib-server.mjs", q, "64"],
        },
      ]
    : []),
  { key: "fibrpc-quorum", label: "fibrpc serve (prefetch 64)", kind: "quorum", argv: fibrpcServe() },
  { key: "go-tuned-quorum", label: "Go tuned (prefetch 64)", kind: "quorum", argv: (q) => [GO_SERVER, "-queue", q, "-prefetch", "64"] },
  { key: "fibrpc-http", label: "fibrpc serve --http, scraped 1/s", kind: "quorum", argv: fibrpcServe("--http", `127.0.0.1:${httpPort}`) },
];

const running: RunningServer[] = [];
let stopScraping: (() => number) | undefined;
const cleanup = async (): Promise<void> => {
  stopScraping?.();
  await Promise.all(running.map(stopServer));
  await deleteQueues(running.map((server) => server.queue));
};

try {
  log(`starting ${SERVERS.length} servers`);
  for (const spec of SERVERS) running.push(await startServer(spec, queueFor(spec.key)));
  stopScraping = scrapeEvery(httpPort);
  await Bun.sleep(1000);
  const servers: ServerFigures[] = [];
  for (const server of running) servers.push({ spec: server.spec, idleRssMb: await rssMb(server.proc.pid), loadRssMb: [], at64: [], at1: [] });

  log("warming up");
  for (const server of running) await fibrpcBench({ queue: server.queue, concurrency: 64, n: N, goal: { durationMs: 1000 } });

  for (let round = 1; round <= ROUNDS; round++) {
    log(`worker throughput, round ${round}/${ROUNDS}`);
    // Servers alternate within each round, and who goes first rotates from round to round, so
    // a burst of load from elsewhere, or a position in the round, favours none of them.
    for (let step = 0; step < running.length; step++) {
      const index = (step + round - 1) % running.length;
      const server = running[index];
      const entry = servers[index];
      if (!server || !entry) continue;
      const loaded = await peakRssDuring(server.proc.pid, () => fibrpcBench({ queue: server.queue, concurrency: 64, n: N, goal: { durationMs: LOAD_MS } }));
      entry.at64.push(loaded.result);
      entry.loadRssMb.push(loaded.peakMb);
      entry.at1.push(await fibrpcBench({ queue: server.queue, concurrency: 1, n: N, goal: { durationMs: LOAD_MS } }));
    }
  }
  const scrapes = stopScraping();
  stopScraping = undefined;

  // Against the fastest server, so that the generator rather than the server is what limits.
  log("load generators: fibrpc bench, fibrpc call -, the Go client's load loop, all against fibrpc serve");
  const driveQueue = queueFor("fibrpc");
  const expected = fibonacci(Number(N)).toString();
  const drive = { bench: [] as number[], go: [] as number[], stream: [] as number[], streamWrong: 0 };
  for (let round = 0; round < ROUNDS; round++) {
    const measures = [
      async () => drive.bench.push((await fibrpcBench({ queue: driveQueue, concurrency: 64, n: N, goal: { requests: DRIVE_REQUESTS } })).callsPerSecond),
      async () => drive.go.push(await goClientLoad(driveQueue, DRIVE_REQUESTS, 64)),
      async () => {
        const run = await streamThroughCall(driveQueue, { lines: STREAM_LINES, n: N, expected, window: 64 });
        drive.stream.push(run.callsPerSecond);
        drive.streamWrong += run.wrong;
      },
    ];
    // Who goes first rotates, so a drift in background load favours none.
    for (let index = 0; index < measures.length; index++) await measures[(index + round) % measures.length]?.();
  }
  log("fibrpc call - at other windows, and the shell loop it replaces");
  const windows: { window: number; callsPerSecond: number }[] = [];
  for (const window of STREAM_WINDOWS) {
    windows.push({ window, callsPerSecond: (await streamThroughCall(driveQueue, { lines: STREAM_LINES / 2, n: N, expected, window })).callsPerSecond });
  }
  const shellCallsPerSecond = await shellLoop(driveQueue, SHELL_LOOP_CALLS);

  log("large n");
  const large = [];
  for (const [n, requests] of [
    [100_000, 20],
    [1_000_000, 5],
  ] as const) {
    // What the worker does per request: the BigInt by fast doubling, then its decimal text.
    const bigintMs: number[] = [];
    const decimalMs: number[] = [];
    for (let index = 0; index < 8; index++) {
      const started = performance.now();
      const value = fibonacci(n);
      const computed = performance.now();
      value.toString();
      if (index === 0) continue; // the first run includes JIT warm-up, which a serving worker has behind it
      bigintMs.push(computed - started);
      decimalMs.push(performance.now() - computed);
    }
    const roundTrip = await fibrpcBench({ queue: driveQueue, concurrency: 1, n: String(n), goal: { requests } });
    large.push({ n, bigintMs: median(bigintMs), decimalMs: median(decimalMs), computeMs: median(bigintMs) + median(decimalMs), roundTrip });
  }

  log(`one-shot client wall time (${tools.hyperfine ? "hyperfine" : "repeated spawns: hyperfine not installed"})`);
  const wall = await wallTimes(
    [
      { label: "fibrpc call", argv: [FIBRPC, "call", "30", "--queue", driveQueue] },
      { label: "Go client", argv: [GO_CLIENT, "-queue", driveQueue, "30"] },
      { label: "bun run src/cli.ts call", argv: [BUN, "run", "src/cli.ts", "call", "30", "--queue", driveQueue] },
    ],
    { hyperfine: tools.hyperfine, runs: 30, warmup: 3 },
  );

  const figures: Figures = { rounds: ROUNDS, loadMs: LOAD_MS, n: N, servers, drive, windows, shellCallsPerSecond, scrapes, large, wall };
  writeFileSync(resolve(BUILD_DIR, "last.json"), `${JSON.stringify(figures, null, 2)}\n`);
  const report = buildReport(figures, { driveRequests: DRIVE_REQUESTS, streamLines: STREAM_LINES, shellCalls: SHELL_LOOP_CALLS });
  if (flags.defaults) {
    await cleanup();
    running.length = 0;
    process.stdout.write(`${report}\n\n${await defaultsStudy()}\n`);
  } else {
    process.stdout.write(`${report}\n`);
  }
} finally {
  await cleanup();
}

/** fibrpc serve with other prefetch values and queue types, each at 1 and 64 in flight. */
async function defaultsStudy(): Promise<string> {
  const configs = [
    ...[1, 16, 64, 128, 256].map((prefetch) => ({ label: `prefetch ${prefetch}, classic`, kind: "classic" as const, prefetch })),
    { label: "prefetch 64, quorum", kind: "quorum" as const, prefetch: 64 },
  ];
  const rows: string[][] = [];
  for (const [index, config] of configs.entries()) {
    log(`defaults study: ${config.label}`);
    const spec: ServerSpec = { key: `defaults-${index}`, label: config.label, kind: config.kind, argv: fibrpcServe("--prefetch", String(config.prefetch)) };
    const server = await startServer(spec, queueFor(spec.key));
    running.push(server);
    try {
      await fibrpcBench({ queue: server.queue, concurrency: 64, n: N, goal: { durationMs: 1000 } });
      const at64: number[] = [];
      const at1: number[] = [];
      const p50at1: number[] = [];
      const p99at64: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const loaded = await fibrpcBench({ queue: server.queue, concurrency: 64, n: N, goal: { durationMs: LOAD_MS } });
        at64.push(loaded.callsPerSecond);
        p99at64.push(loaded.latencyMs?.p99 ?? Number.NaN);
        const single = await fibrpcBench({ queue: server.queue, concurrency: 1, n: N, goal: { durationMs: LOAD_MS } });
        at1.push(single.callsPerSecond);
        p50at1.push(single.latencyMs?.p50 ?? Number.NaN);
      }
      rows.push([config.label, rate(median(at64)), ms(median(p99at64)), rate(median(at1)), ms(median(p50at1))]);
    } finally {
      await stopServer(server);
    }
  }
  return ["Defaults study: fibrpc serve", formatTable(["config", "@64 calls/s", "@64 p99", "@1 calls/s", "@1 p50"], rows)].join("\n");
}
