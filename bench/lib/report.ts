/** The benchmark's printed report: what was measured, as tables of absolute figures and ratios, and the targets. */
import { statSync } from "node:fs";
import type { BenchSummary } from "../../src/bench/summary.ts";
import { fibonacci } from "../../src/fib.ts";
import { median, type WallTime } from "./measure.ts";
import type { ServerSpec } from "./processes.ts";
import { FIBRPC, GO_CLIENT, GO_SERVER } from "./setup.ts";
import { formatTable, mb, ms, rate, ratio, verdict } from "./table.ts";

export interface ServerFigures {
  spec: ServerSpec;
  idleRssMb: number;
  loadRssMb: number[];
  at64: BenchSummary[];
  at1: BenchSummary[];
}

export interface Figures {
  rounds: number;
  loadMs: number;
  n: string;
  servers: ServerFigures[];
  /** calls/s per round, 64 in flight, against fibrpc serve: fibrpc bench, the Go load loop, `fibrpc call -` (window 64). */
  drive: { bench: number[]; go: number[]; stream: number[]; streamWrong: number };
  windows: { window: number; callsPerSecond: number }[];
  shellCallsPerSecond: number;
  /** Scrapes of serve --http that succeeded during the run. */
  scrapes: number;
  large: { n: number; bigintMs: number; decimalMs: number; computeMs: number; roundTrip: BenchSummary }[];
  wall: WallTime[];
}

const med = (summaries: BenchSummary[], pick: (summary: BenchSummary) => number): number => median(summaries.map(pick));

export function buildReport(figures: Figures, sizes: { driveRequests: number; streamLines: number; shellCalls: number }): string {
  const byKey = new Map(figures.servers.map((entry) => [entry.spec.key, entry]));
  const rate64 = (key: string): number => med(byKey.get(key)?.at64 ?? [], (s) => s.callsPerSecond);
  const p50at1 = (key: string): number => med(byKey.get(key)?.at1 ?? [], (s) => s.latencyMs?.p50 ?? Number.NaN);
  const idle = (key: string): number => byKey.get(key)?.idleRssMb ?? Number.NaN;
  const summaries = figures.servers.flatMap((entry) => [...entry.at64, ...entry.at1]);
  const failures = summaries.reduce((sum, summary) => sum + summary.failed, 0) + figures.drive.streamWrong;
  const wallOf = (label: string): number => figures.wall.find((entry) => entry.label === label)?.medianMs ?? Number.NaN;
  const benchRate = median(figures.drive.bench);
  const goRate = median(figures.drive.go);
  const streamRate = median(figures.drive.stream);
  const f1e6 = figures.large.find((entry) => entry.n === 1_000_000);
  const sizeMb = (path: string): number => statSync(path).size / 1024 / 1024;

  // Each server's ratio is to fibrpc serve on the same kind of queue.
  const fibrpcOn = (spec: ServerSpec): string => (spec.kind === "classic" ? "fibrpc" : "fibrpc-quorum");
  const workerRows = figures.servers.map(({ spec, at64, at1, idleRssMb, loadRssMb }) => [
    `${spec.label}, ${spec.kind}`,
    rate(med(at64, (s) => s.callsPerSecond)),
    ratio(
      rate64(fibrpcOn(spec)),
      med(at64, (s) => s.callsPerSecond),
    ),
    ms(med(at64, (s) => s.latencyMs?.p50 ?? Number.NaN)),
    ms(med(at64, (s) => s.latencyMs?.p99 ?? Number.NaN)),
    rate(med(at1, (s) => s.callsPerSecond)),
    ms(med(at1, (s) => s.latencyMs?.p50 ?? Number.NaN)),
    ratio(
      p50at1(fibrpcOn(spec)),
      med(at1, (s) => s.latencyMs?.p50 ?? Number.NaN),
    ),
    mb(idleRssMb),
    mb(Math.max(...loadRssMb)),
  ]);
  const clientRows = figures.wall.map((entry) => [entry.label, ms(entry.medianMs), ratio(entry.medianMs, wallOf("Go client")), String(entry.runs)]);
  const httpRatio = rate64("fibrpc-http") / rate64("fibrpc-quorum");
  const httpRssGrowth = idle("fibrpc-http") - idle("fibrpc-quorum");

  const targets = [
    ["serve @64 vs Go tuned, classic", ratio(rate64("fibrpc"), rate64("go-tuned")), "≥ 1.0×", verdict(rate64("fibrpc") / rate64("go-tuned"), { atLeast: 1 })],
    [
      "serve @64 vs Go tuned, quorum",
      ratio(rate64("fibrpc-quorum"), rate64("go-tuned-quorum")),
      "≥ 1.0×",
      verdict(rate64("fibrpc-quorum") / rate64("go-tuned-quorum"), { atLeast: 1 }),
    ],
    ["serve @64 vs Go tutorial", ratio(rate64("fibrpc"), rate64("go-tutorial")), "≥ 5×", verdict(rate64("fibrpc") / rate64("go-tutorial"), { atLeast: 5 })],
    [
      "serve p50 @1 vs Go tutorial",
      ratio(p50at1("fibrpc"), p50at1("go-tutorial")),
      "≤ 1.2×",
      verdict(p50at1("fibrpc") / p50at1("go-tutorial"), { atMost: 1.2 }),
    ],
    ["serve --http scraped vs plain @64", ratio(rate64("fibrpc-http"), rate64("fibrpc-quorum")), "≥ 0.95×", verdict(httpRatio, { atLeast: 0.95 })],
    ["serve --http idle RSS growth", mb(httpRssGrowth), "< 10 MB", verdict(httpRssGrowth, { atMost: 10 })],
    [
      "fibrpc call 30 vs Go client",
      ratio(wallOf("fibrpc call"), wallOf("Go client")),
      "≤ 1.5×",
      verdict(wallOf("fibrpc call") / wallOf("Go client"), { atMost: 1.5 }),
    ],
    ["bench drive vs Go load loop", ratio(benchRate, goRate), "≥ 1.0×", verdict(benchRate / goRate, { atLeast: 1 })],
    ["call - vs Go load loop @64", ratio(streamRate, goRate), "≥ 0.8×", verdict(streamRate / goRate, { atLeast: 0.8 })],
    [
      "call - vs shell loop of calls",
      ratio(streamRate, figures.shellCallsPerSecond),
      "≥ 100×",
      verdict(streamRate / figures.shellCallsPerSecond, { atLeast: 100 }),
    ],
    ["F(10^6) in the worker", ms(f1e6?.computeMs ?? Number.NaN), "< 50 ms", verdict(f1e6?.computeMs ?? Number.NaN, { atMost: 50 })],
    ["serve idle RSS", mb(idle("fibrpc")), "< 80 MB", verdict(idle("fibrpc"), { atMost: 80 })],
  ];

  return [
    `fibrpc benchmark — ${new Date().toISOString()}, ${navigator.hardwareConcurrency} CPUs, broker on localhost, n=${figures.n}, ` +
      `median of ${figures.rounds} rounds of ${figures.loadMs / 1000}s per figure; every answer verified (${failures} failed)`,
    "",
    "Worker throughput (load: fibrpc bench; ratio = fibrpc serve on the same kind of queue ÷ row; each queue durable, declared",
    `before the servers start; serve --http scraped once a second throughout, ${figures.scrapes} scrapes)`,
    formatTable(["server, queue", "@64 calls/s", "ratio", "@64 p50", "@64 p99", "@1 calls/s", "@1 p50", "p50 ratio", "RSS idle", "RSS load"], workerRows),
    "",
    "One-shot client: start, connect, call 30, exit (median wall time; ratio = row ÷ Go client)",
    formatTable(["client", "wall", "ratio", "runs"], clientRows),
    "",
    `Load generators against fibrpc serve (classic), 64 in flight (ratio = row ÷ Go); fibrpc bench and Go: ${sizes.driveRequests} calls,`,
    `fibrpc call -: ${sizes.streamLines} lines of ${figures.n} on stdin, --window 64, every output line checked; the shell loop: ${sizes.shellCalls} one-shot calls`,
    formatTable(
      ["generator", "calls/s", "ratio"],
      [
        ["fibrpc bench", rate(benchRate), ratio(benchRate, goRate)],
        ["fibrpc call - (window 64)", rate(streamRate), ratio(streamRate, goRate)],
        ["Go client load loop", rate(goRate), "1.00×"],
        ["shell loop of fibrpc call", rate(figures.shellCallsPerSecond), ratio(figures.shellCallsPerSecond, goRate)],
      ],
    ),
    "",
    `fibrpc call - by window (${sizes.streamLines / 2} lines each, one run)`,
    formatTable(
      ["window", "calls/s"],
      figures.windows.map((entry) => [String(entry.window), rate(entry.callsPerSecond)]),
    ),
    "",
    "Large n (in-process, the worker's code, median of 7 warm runs: BigInt by fast doubling, then its decimal text;",
    "round trip: p50 of fibrpc bench @1 through fibrpc serve)",
    formatTable(
      ["n", "digits", "BigInt", "to decimal", "compute", "round trip"],
      figures.large.map((entry) => [
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
