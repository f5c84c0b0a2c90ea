/**
 * `npm run release`: one fibrpc binary per platform in dist/release/, named by platform, and a
 * sha256sums.txt that `sha256sum -c` (or `shasum -a 256 -c`) accepts.
 *
 * Every target goes through buildBinary (scripts/build.ts), the same code path as `npm run build`:
 * minified, bytecode, sourcemap, version and commit defined, no .env/bunfig.toml autoload.
 * Bun cross-compiles bytecode and the sourcemap for every target below (checked: each binary grows
 * by the bytecode, ~2.5 MB, and the embedded map, ~0.2 MB), so no target needs them dropped.
 * The sourcemap is embedded in the executable; the `.map` written beside it is not shipped.
 */
import { mkdirSync, rmSync } from "node:fs";
import { basename, join } from "node:path";
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

/** `bun-linux-x64-baseline` -> `fibrpc-linux-x64-baseline`; Windows gets `.exe`. */
export function releaseFileName(target: ReleaseTarget): string {
  const platform = target.replace(/^bun-/, "");
  return `fibrpc-${platform}${platform.startsWith("windows-") ? ".exe" : ""}`;
}

/** The file `sha256sum -c` reads: `<hex>  <name>`, two spaces (text mode), one line per file. */
export function sha256sumsText(entries: readonly { file: string; sha256: string }[]): string {
  return entries.map((entry) => `${entry.sha256}  ${entry.file}\n`).join("");
}

async function sha256Of(path: string): Promise<string> {
  const hasher = new Bun.CryptoHasher("sha256");
  for await (const chunk of Bun.file(path).stream()) hasher.update(chunk);
  return hasher.digest("hex");
}

export async function buildRelease(dir = RELEASE_DIR): Promise<{ file: string; sha256: string; bytes: number }[]> {
  rmSync(dir, { recursive: true, force: true }); // no stale binary may end up in the checksums
  mkdirSync(dir, { recursive: true });
  const built: { file: string; sha256: string; bytes: number }[] = [];
  // One after another: each build holds a ~100 MB runtime in memory, and CI machines are small.
  for (const target of RELEASE_TARGETS) {
    const outfile = join(dir, releaseFileName(target));
    const output = await buildBinary(outfile, target);
    for (const artifact of output.outputs) if (artifact.kind === "sourcemap") rmSync(artifact.path, { force: true });
    built.push({ file: basename(outfile), sha256: await sha256Of(outfile), bytes: Bun.file(outfile).size });
    console.error(`built ${outfile} (${target})`);
  }
  await Bun.write(join(dir, "sha256sums.txt"), sha256sumsText(built));
  return built;
}

if (import.meta.main) {
  const built = await buildRelease();
  for (const entry of built) console.error(`${entry.file}  ${(entry.bytes / 1_048_576).toFixed(1)} MiB`);
  console.error(`wrote ${join(RELEASE_DIR, "sha256sums.txt")}`);
}
