/**
 * `npm run bench`: fibrpc side by side with tutorial-style baselines on the local broker, in
 * one run, printed as one table of absolute figures and ratios. See docs/benchmark.md.
 *
 *   bun bench/run.ts [--rounds 3] [--seconds 3] [--rebuild] [--defaults]
 *
 * --defaults adds the study behind fibrpc's defaults: prefetch 1/16/64/128/256 and a classic
 * vs a quorum queue, each at 1 and 64 in flight.
 */
import { statSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { fibonacci } from "../src/fib.ts";
import type { BenchSummary } from "../src/bench/summary.ts";
import { fibrpcBench, goClientLoad, median, wallTimes, type WallTime } from "./lib/measure.ts";
import { deleteQueues, peakRssDuring, rssMb, startServer, stopServer, type RunningServer, type ServerSpec } from "./lib/processes.ts";
import { BUILD_DIR, BUN, FIBRPC, GO_CLIENT, GO_SERVER, log, prepare } from "./lib/setup.ts";
import { formatTable, mb, ms, rate, ratio, verdict } from "./lib/table.ts";

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
const RUN_ID = crypto.randomUUID().slice(0, 6);
const queueFor = (key: string): string => `fibrpc-bench-${key}-${RUN_ID}`;

const tools = await prepare({ rebuild: flags.rebuild });

const SERVERS: ServerSpec[] = [
  { key: "fibrpc", label: "fibrpc serve (prefetch 64)", argv: (q) => [FIBRPC, "serve", "--queue", q, "--max-n", "1000000", "--log-level", "warn"] },
  { key: "go-tutorial", label: "Go tutorial (prefetch 1)", argv: (q) => [GO_SERVER, "-queue", q, "-prefetch", "1"] },
  { key: "go-tuned", label: "Go tuned (prefetch 64)", argv: (q) => [GO_SERVER, "-queue", q, "-prefetch", "64"] },
  ...(tools.node
    ? [{ key: "amqplib-node", label: "amqplib on Node (prefetch 64)", argv: (q: string) => ["node", "bench/baselines/amqplib-server.mjs", q, "64"] }]
    : []),
];

interface ServerFigures {
  spec: ServerSpec;
  idleRssMb: number;
  loadRssMb: number[];
  at64: BenchSummary[];
  at1: BenchSummary[];
}

const running: RunningServer[] = [];
const cleanup = async (): Promise<void> => {
  await Promise.all(running.map(stopServer));
  await deleteQueues(running.map((server) => server.queue));
};

try {
  log(`starting ${SERVERS.length} servers`);
  for (const spec of SERVERS) running.push(await startServer(spec, queueFor(spec.key)));
  await Bun.sleep(1000);
  const figures: ServerFigures[] = [];
  for (const server of running) figures.push({ spec: server.spec, idleRssMb: await rssMb(server.proc.pid), loadRssMb: [], at64: [], at1: [] });

  log("warming up");
  for (const server of running) await fibrpcBench({ queue: server.queue, concurrency: 64, n: N, goal: { durationMs: 1000 } });

  for (let round = 1; round <= ROUNDS; round++) {
    log(`worker throughput, round ${round}/${ROUNDS}`);
    // Servers alternate within each round, so a burst of load from elsewhere hits them alike.
    for (const [index, server] of running.entries()) {
      const entry = figures[index];
      if (!entry) continue;
      const loaded = await peakRssDuring(server.proc.pid, () =>
        fibrpcBench({ queue: server.queue, concurrency: 64, n: N, goal: { durationMs: LOAD_MS } }),
      );
      entry.at64.push(loaded.result);
      entry.loadRssMb.push(loaded.peakMb);
      entry.at1.push(await fibrpcBench({ queue: server.queue, concurrency: 1, n: N, goal: { durationMs: LOAD_MS } }));
    }
  }

  // Against the fastest server, so that the generator rather than the server is what limits.
  log("load generators: fibrpc bench vs the Go client's load loop, both against fibrpc serve");
  const driveQueue = queueFor("fibrpc");
  const benchDrive: number[] = [];
  const goDrive: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const viaBench = async (): Promise<void> => {
      benchDrive.push((await fibrpcBench({ queue: driveQueue, concurrency: 64, n: N, goal: { requests: DRIVE_REQUESTS } })).callsPerSecond);
    };
    const viaGo = async (): Promise<void> => {
      goDrive.push(await goClientLoad(driveQueue, DRIVE_REQUESTS, 64));
    };
    // Who goes first alternates, so a drift in background load favours neither.
    for (const measure of round % 2 === 0 ? [viaBench, viaGo] : [viaGo, viaBench]) await measure();
  }

  log("large n");
  const fibrpcQueue = queueFor("fibrpc");
  const large = [];
  for (const [n, requests] of [[100_000, 20], [1_000_000, 5]] as const) {
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
    const roundTrip = await fibrpcBench({ queue: fibrpcQueue, concurrency: 1, n: String(n), goal: { requests } });
    large.push({ n, bigintMs: median(bigintMs), decimalMs: median(decimalMs), computeMs: median(bigintMs) + median(decimalMs), roundTrip });
  }

  log(`one-shot client wall time (${tools.hyperfine ? "hyperfine" : "repeated spawns: hyperfine not installed"})`);
  const wall = await wallTimes(
    [
      { label: "fibrpc call", argv: [FIBRPC, "call", "30", "--queue", fibrpcQueue] },
      { label: "Go client", argv: [GO_CLIENT, "-queue", fibrpcQueue, "30"] },
      { label: "bun run src/cli.ts call", argv: [BUN, "run", "src/cli.ts", "call", "30", "--queue", fibrpcQueue] },
    ],
    { hyperfine: tools.hyperfine, runs: 30, warmup: 3 },
  );

  const report = buildReport(figures, { benchDrive, goDrive }, large, wall);
  writeFileSync(resolve(BUILD_DIR, "last.json"), `${JSON.stringify({ figures, benchDrive, goDrive, large, wall }, null, 2)}\n`);
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

function buildReport(
  figures: ServerFigures[],
  drive: { benchDrive: number[]; goDrive: number[] },
  large: { n: number; bigintMs: number; decimalMs: number; computeMs: number; roundTrip: BenchSummary }[],
  wall: WallTime[],
): string {
  const med = (summaries: BenchSummary[], pick: (s: BenchSummary) => number): number => median(summaries.map(pick));
  const byKey = new Map(figures.map((entry) => [entry.spec.key, entry]));
  const fib = byKey.get("fibrpc");
  const rate64 = (key: string): number => med(byKey.get(key)?.at64 ?? [], (s) => s.callsPerSecond);
  const p50at1 = (key: string): number => med(byKey.get(key)?.at1 ?? [], (s) => s.latencyMs?.p50 ?? Number.NaN);
  const failures = figures.reduce((sum, entry) => sum + [...entry.at64, ...entry.at1].reduce((total, s) => total + s.failed, 0), 0);

  const workerRows = figures.map((entry) => [
    entry.spec.label,
    rate(med(entry.at64, (s) => s.callsPerSecond)),
    ratio(rate64("fibrpc"), med(entry.at64, (s) => s.callsPerSecond)),
    ms(med(entry.at64, (s) => s.latencyMs?.p50 ?? Number.NaN)),
    ms(med(entry.at64, (s) => s.latencyMs?.p99 ?? Number.NaN)),
    rate(med(entry.at1, (s) => s.callsPerSecond)),
    ms(med(entry.at1, (s) => s.latencyMs?.p50 ?? Number.NaN)),
    ratio(p50at1("fibrpc"), med(entry.at1, (s) => s.latencyMs?.p50 ?? Number.NaN)),
    mb(entry.idleRssMb),
    mb(Math.max(...entry.loadRssMb)),
  ]);
  const wallOf = (label: string): number => wall.find((entry) => entry.label === label)?.medianMs ?? Number.NaN;
  const clientRows = wall.map((entry) => [entry.label, ms(entry.medianMs), ratio(entry.medianMs, wallOf("Go client")), String(entry.runs)]);
  const benchRate = median(drive.benchDrive);
  const goRate = median(drive.goDrive);
  const sizeMb = (path: string): number => statSync(path).size / 1024 / 1024;
  const f1e6 = large.find((entry) => entry.n === 1_000_000);

  const targets = [
    ["serve @64 vs Go tuned", ratio(rate64("fibrpc"), rate64("go-tuned")), "≥ 1.0×", verdict(rate64("fibrpc") / rate64("go-tuned"), { atLeast: 1 })],
    ["serve @64 vs Go tutorial", ratio(rate64("fibrpc"), rate64("go-tutorial")), "≥ 5×", verdict(rate64("fibrpc") / rate64("go-tutorial"), { atLeast: 5 })],
    ["serve p50 @1 vs Go tutorial", ratio(p50at1("fibrpc"), p50at1("go-tutorial")), "≤ 1.2×", verdict(p50at1("fibrpc") / p50at1("go-tutorial"), { atMost: 1.2 })],
    ["fibrpc call 30 vs Go client", ratio(wallOf("fibrpc call"), wallOf("Go client")), "≤ 1.5×", verdict(wallOf("fibrpc call") / wallOf("Go client"), { atMost: 1.5 })],
    ["bench drive vs Go client", ratio(benchRate, goRate), "≥ 1.0×", verdict(benchRate / goRate, { atLeast: 1 })],
    ["F(10^6) in the worker", ms(f1e6?.computeMs ?? Number.NaN), "< 50 ms", verdict(f1e6?.computeMs ?? Number.NaN, { atMost: 50 })],
    ["serve idle RSS", mb(fib?.idleRssMb ?? Number.NaN), "< 80 MB", verdict(fib?.idleRssMb ?? Number.NaN, { atMost: 80 })],
  ];

  return [
    `fibrpc benchmark — ${new Date().toISOString()}, ${navigator.hardwareConcurrency} CPUs, broker on localhost, n=${N}, ` +
      `median of ${ROUNDS} rounds of ${LOAD_MS / 1000}s per figure; every answer verified (${failures} failed)`,
    "",
    "Worker throughput (load: fibrpc bench; ratio = fibrpc ÷ row)",
    formatTable(["server", "@64 calls/s", "ratio", "@64 p50", "@64 p99", "@1 calls/s", "@1 p50", "p50 ratio", "RSS idle", "RSS load"], workerRows),
    "",
    "One-shot client: start, connect, call 30, exit (median wall time; ratio = row ÷ Go client)",
    formatTable(["client", "wall", "ratio", "runs"], clientRows),
    "",
    `Load generators against fibrpc serve, 64 in flight, ${DRIVE_REQUESTS} calls each (ratio = row ÷ Go)`,
    formatTable(
      ["generator", "calls/s", "ratio"],
      [
        ["fibrpc bench", rate(benchRate), ratio(benchRate, goRate)],
        ["Go client load loop", rate(goRate), "1.00×"],
      ],
    ),
    "",
    "Large n (in-process, the worker's code, median of 7 warm runs: BigInt by fast doubling, then its decimal text;",
    "round trip: p50 of fibrpc bench @1 through fibrpc serve)",
    formatTable(
      ["n", "digits", "BigInt", "to decimal", "compute", "round trip"],
      large.map((entry) => [
        `F(${entry.n})`,
        String(fibonacci(entry.n).toString().length),
        ms(entry.bigintMs),
        ms(entry.decimalMs),
        ms(entry.computeMs),
        ms(entry.roundTrip.latencyMs?.p50 ?? Number.NaN),
      ]),
    ),
    "",
    "Binary size",
    formatTable(
      ["binary", "size"],
      [
        ["dist/fibrpc (serve, call, bench, …)", mb(sizeMb(FIBRPC))],
        ["Go server", mb(sizeMb(GO_SERVER))],
        ["Go client", mb(sizeMb(GO_CLIENT))],
      ],
    ),
    "",
    "Targets (ratios from this run)",
    formatTable(["target", "figure", "goal", "result"], targets),
  ].join("\n");
}

/** fibrpc serve with other prefetch values and queue types, each at 1 and 64 in flight. */
async function defaultsStudy(): Promise<string> {
  const configs = [
    ...[1, 16, 64, 128, 256].map((prefetch) => ({ label: `prefetch ${prefetch}, classic`, args: ["--prefetch", String(prefetch)] })),
    { label: "prefetch 64, quorum", args: ["--prefetch", "64", "--queue-type", "quorum"] },
  ];
  const rows: string[][] = [];
  for (const [index, config] of configs.entries()) {
    log(`defaults study: ${config.label}`);
    const spec: ServerSpec = { key: `defaults-${index}`, label: config.label, argv: (q) => [FIBRPC, "serve", "--queue", q, "--log-level", "warn", ...config.args] };
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

