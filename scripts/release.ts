/**
 * `npm run release`: in dist/release/, per platform, the fibrpc binary named by platform and an
 * archive `fibrpc-<version>-<platform>.tar.gz` (`.zip` for Windows) holding that binary, the three
 * completion scripts, README.md and LICENSE; and a sha256sums.txt over every one of those files
 * that `sha256sum -c` (or `shasum -a 256 -c`) accepts.
 *
 * Every target goes through buildBinary (scripts/build.ts), the same code path as `npm run build`:
 * minified, bytecode, sourcemap, version and commit defined, no .env/bunfig.toml autoload.
 * Bun cross-compiles bytecode and the sourcemap for every target below (checked: each binary grows
 * by the bytecode, ~2.5 MB, and the embedded map, ~0.2 MB), so no target needs them dropped.
 * The sourcemap is embedded in the executable; the `.map` written beside it is not shipped.
 */
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { basename, join } from "node:path";
import pkg from "../package.json" with { type: "json" };
import { tarGzBytes, zipBytes, type ArchiveEntry } from "./archive.ts";
import { buildBinary } from "./build.ts";

export const RELEASE_DIR = "dist/release";

/** Bun's compile targets for the platforms users run: glibc x64 (+ baseline for CPUs without AVX2), arm64, Alpine, macOS, Windows. */
export const RELEASE_TARGETS = [
  "bun-linux-x64",
  "bun-linux-x64-baseline",
  "bun-linux-arm64",
  "bun-linux-x64-musl",
  "bun-darwin-x64",
  "bun-darwin-arm64",
  "bun-windows-x64",
] as const satisfies readonly Bun.Build.CompileTarget[];

export type ReleaseTarget = (typeof RELEASE_TARGETS)[number];

/** `bun-linux-x64-baseline` -> `linux-x64-baseline`: the name users pick a download by. */
export function platformOf(target: ReleaseTarget): string {
  return target.replace(/^bun-/, "");
}

const isWindows = (target: ReleaseTarget) => platformOf(target).startsWith("windows-");

/** `bun-linux-x64-baseline` -> `fibrpc-linux-x64-baseline`; Windows gets `.exe`. */
export function releaseFileName(target: ReleaseTarget): string {
  return `fibrpc-${platformOf(target)}${isWindows(target) ? ".exe" : ""}`;
}

/** The folder inside the archive, and the archive's name without its extension: `fibrpc-0.1.0-linux-x64`. */
export function archiveRootName(target: ReleaseTarget, version: string = pkg.version): string {
  return `fibrpc-${version}-${platformOf(target)}`;
}

export function archiveFileName(target: ReleaseTarget, version: string = pkg.version): string {
  return `${archiveRootName(target, version)}${isWindows(target) ? ".zip" : ".tar.gz"}`;
}

/** Where each shell's script sits in an archive, named as each shell looks for it once copied. */
export const COMPLETION_FILES = { bash: "completions/fibrpc.bash", zsh: "completions/_fibrpc", fish: "completions/fibrpc.fish" } as const;

/** The file `sha256sum -c` reads: `<hex>  <name>`, two spaces (text mode), one line per file. */
export function sha256sumsText(entries: readonly { file: string; sha256: string }[]): string {
  return entries.map((entry) => `${entry.sha256}  ${entry.file}\n`).join("");
}

/** What goes into one platform's archive, under one top-level folder. */
export function archiveEntries(
  target: ReleaseTarget,
  files: { binary: Uint8Array; readme: Uint8Array; license: Uint8Array; completions: Record<keyof typeof COMPLETION_FILES, Uint8Array> },
): ArchiveEntry[] {
  const root = archiveRootName(target);
  return [
    { path: `${root}/`, mode: 0o755 },
    { path: `${root}/fibrpc${isWindows(target) ? ".exe" : ""}`, data: files.binary, mode: 0o755 },
    { path: `${root}/README.md`, data: files.readme, mode: 0o644 },
    { path: `${root}/LICENSE`, data: files.license, mode: 0o644 },
    { path: `${root}/completions/`, mode: 0o755 },
    ...Object.entries(COMPLETION_FILES).map(([shell, path]) => ({
      path: `${root}/${path}`,
      data: files.completions[shell as keyof typeof COMPLETION_FILES],
      mode: 0o644,
    })),
  ];
}

async function sha256Of(path: string): Promise<string> {
  const hasher = new Bun.CryptoHasher("sha256");
  for await (const chunk of Bun.file(path).stream()) hasher.update(chunk);
  return hasher.digest("hex");
}

/** What `fibrpc completion <shell>` prints: the same for every platform, so produced once, from source. */
function completionScript(shell: string): Uint8Array {
  const result = Bun.spawnSync([process.execPath, "src/cli.ts", "completion", shell], { stderr: "pipe" });
  if (!result.success || result.stdout.length === 0) throw new Error(`fibrpc completion ${shell} failed: ${result.stderr.toString()}`);
  return result.stdout;
}

/** The commit's time, so that archives built from one commit carry the same timestamps. */
function sourceDateEpoch(): number {
  const fromEnv = Number(process.env.SOURCE_DATE_EPOCH);
  if (Number.isInteger(fromEnv) && fromEnv > 0) return fromEnv;
  const commit = Bun.spawnSync(["git", "log", "-1", "--format=%ct"], { stderr: "ignore" });
  const seconds = Number(commit.stdout.toString().trim());
  return commit.success && Number.isInteger(seconds) && seconds > 0 ? seconds : Math.floor(Date.now() / 1000);
}

export interface PublishedFile {
  file: string;
  sha256: string;
  bytes: number;
}

export async function buildRelease(dir = RELEASE_DIR): Promise<PublishedFile[]> {
  rmSync(dir, { recursive: true, force: true }); // no stale file may end up in the checksums
  mkdirSync(dir, { recursive: true });
  const common = {
    readme: readFileSync("README.md"),
    license: readFileSync("LICENSE"),
    completions: { bash: completionScript("bash"), zsh: completionScript("zsh"), fish: completionScript("fish") },
  };
  const mtime = sourceDateEpoch();
  const published: string[] = [];
  // One after another: each build holds a ~100 MB runtime in memory, and CI machines are small.
  for (const target of RELEASE_TARGETS) {
    const outfile = join(dir, releaseFileName(target));
    const output = await buildBinary(outfile, target);
    for (const artifact of output.outputs) if (artifact.kind === "sourcemap") rmSync(artifact.path, { force: true });
    const entries = archiveEntries(target, { ...common, binary: new Uint8Array(await Bun.file(outfile).arrayBuffer()) });
    const archive = join(dir, archiveFileName(target));
    await Bun.write(archive, isWindows(target) ? zipBytes(entries, mtime) : tarGzBytes(entries, mtime));
    published.push(outfile, archive);
    console.error(`built ${outfile} and ${basename(archive)} (${target})`);
  }
  const files: PublishedFile[] = [];
  for (const path of published.sort()) files.push({ file: basename(path), sha256: await sha256Of(path), bytes: Bun.file(path).size });
  await Bun.write(join(dir, "sha256sums.txt"), sha256sumsText(files));
  return files;
}

/** The table docs/release.md shows: each archive's size against its raw binary's. */
export function sizesTable(files: readonly PublishedFile[]): string {
  const bytesOf = (name: string) => files.find((entry) => entry.file === name)?.bytes ?? Number.NaN;
  const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
  const rows = RELEASE_TARGETS.map((target) => {
    const binary = bytesOf(releaseFileName(target));
    const archive = bytesOf(archiveFileName(target));
    return `| ${platformOf(target)} | ${mb(binary)} | ${mb(archive)} | ${Math.round((100 * archive) / binary)}% |`;
  });
  return ["| Platform | Binary | Archive | Archive / binary |", "|---|---|---|---|", ...rows].join("\n");
}

if (import.meta.main) {
  const files = await buildRelease();
  console.error(`wrote ${join(RELEASE_DIR, "sha256sums.txt")}\n\n${sizesTable(files)}`);
}
