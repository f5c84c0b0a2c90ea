/** One measurement each: a `fibrpc bench` run, a Go client load run, wall times of one-shot commands. */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BenchSummary } from "../../src/bench/summary.ts";
import { BROKER_URL } from "./processes.ts";
import { FIBRPC, GO_CLIENT, ROOT } from "./setup.ts";

const ENV = { ...process.env, AMQP_URL: BROKER_URL, NO_COLOR: "1" };

export interface LoadSpec {
  queue: string;
  concurrency: number;
  n: string;
  goal: { requests: number } | { durationMs: number };
}

/** Drives `queue` with `fibrpc bench --json`; a run with failures still returns its summary. */
export async function fibrpcBench(spec: LoadSpec): Promise<BenchSummary> {
  const goal = "requests" in spec.goal ? ["--requests", String(spec.goal.requests)] : ["--duration", `${spec.goal.durationMs}ms`];
  const proc = Bun.spawn(
    [FIBRPC, "bench", "--queue", spec.queue, "--concurrency", String(spec.concurrency), "--n", spec.n, "--timeout", "30s", "--json", ...goal],
    { env: ENV, stdout: "pipe", stderr: "pipe" },
  );
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (stdout.trim() === "") throw new Error(`fibrpc bench on '${spec.queue}' exited ${code}: ${stderr.trim()}`);
  return JSON.parse(stdout) as BenchSummary;
}

/** The Go client's own load loop (64 in flight on direct reply-to): calls/s. */
export async function goClientLoad(queue: string, requests: number, concurrency: number): Promise<number> {
  const proc = Bun.spawn([GO_CLIENT, "-queue", queue, "-requests", String(requests), "-concurrency", String(concurrency), "30"], {
    env: ENV,
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`go-client load exited ${code}: ${stderr.trim()}`);
  return (JSON.parse(stdout) as { callsPerSecond: number }).callsPerSecond;
}

export interface WallTime {
  label: string;
  medianMs: number;
  meanMs: number;
  runs: number;
}

/** Median wall time of each command, with hyperfine when there is one, else by timing spawns here. */
export async function wallTimes(
  commands: { label: string; argv: string[] }[],
  options: { hyperfine: boolean; runs: number; warmup: number },
): Promise<WallTime[]> {
  for (const { label, argv } of commands) {
    const check = Bun.spawnSync(argv, { env: ENV, cwd: ROOT });
    if (check.stdout.toString().trim() !== "832040") throw new Error(`${label} did not print F(30): ${check.stderr.toString().trim()}`);
  }
  return options.hyperfine ? await withHyperfine(commands, options) : await byRepeatedSpawns(commands, options);
}

async function withHyperfine(commands: { label: string; argv: string[] }[], options: { runs: number; warmup: number }): Promise<WallTime[]> {
  const dir = mkdtempSync(join(tmpdir(), "fibrpc-bench-"));
  const exported = join(dir, "hyperfine.json");
  try {
    const argv = ["hyperfine", "-N", "--style", "none", "--warmup", String(options.warmup), "--runs", String(options.runs), "--export-json", exported];
    for (const { label, argv: command } of commands) argv.push("-n", label, command.map(shellQuote).join(" "));
    const proc = Bun.spawn(argv, { env: ENV, cwd: ROOT, stdout: "ignore", stderr: "pipe" });
    const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
    if (code !== 0) throw new Error(`hyperfine exited ${code}: ${stderr.trim()}`);
    const report = JSON.parse(readFileSync(exported, "utf8")) as { results: { command: string; median: number; mean: number; times: number[] }[] };
    return report.results.map((result) => ({ label: result.command, medianMs: result.median * 1000, meanMs: result.mean * 1000, runs: result.times.length }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function shellQuote(word: string): string {
  return /^[\w./=:-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

async function byRepeatedSpawns(commands: { label: string; argv: string[] }[], options: { runs: number; warmup: number }): Promise<WallTime[]> {
  const times = new Map(commands.map(({ label }) => [label, [] as number[]]));
  for (let round = 0; round < options.warmup + options.runs; round++) {
    // Interleaved, so a burst of load from elsewhere hits every command alike.
    for (const { label, argv } of commands) {
      const started = performance.now();
      const proc = Bun.spawn(argv, { env: ENV, cwd: ROOT, stdout: "ignore", stderr: "ignore" });
      await proc.exited;
      if (round >= options.warmup) times.get(label)?.push(performance.now() - started);
    }
  }
  return commands.map(({ label }) => {
    const samples = times.get(label) ?? [];
    return { label, medianMs: median(samples), meanMs: samples.reduce((a, b) => a + b, 0) / samples.length, runs: samples.length };
  });
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? Number.NaN) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}
