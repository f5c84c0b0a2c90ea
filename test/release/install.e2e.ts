/**
 * The install one-liner of docs/release.md, read from that page and run by /bin/sh as a user would
 * paste it, against dist/release served over HTTP by this test (FIBRPC_RELEASES points it there):
 * it installs from an intact archive, and refuses, installing nothing, a corrupted archive or one
 * that sha256sums.txt does not list. Part of `npm run test:release` (needs dist/release and curl).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Server } from "bun";
import pkg from "../../package.json" with { type: "json" };
import { archiveFileName } from "../../scripts/release.ts";

const ROOT = resolve(import.meta.dir, "../..");
const RELEASE = join(ROOT, "dist/release");
const ARCHIVE = archiveFileName("bun-linux-x64");
if (!existsSync(join(RELEASE, ARCHIVE))) throw new Error(`${RELEASE} has no ${ARCHIVE}: run 'npm run test:release' (it builds first)`);
if (Bun.which("curl") === null) throw new Error("curl is missing: 'bash scripts/test-env.sh --release' installs it");

/** The first ```sh block under the "One-line install" heading of docs/release.md. */
function oneLinerFromDocs(): string {
  const docs = readFileSync(join(ROOT, "docs/release.md"), "utf8");
  const section = docs.slice(docs.indexOf("### One-line install"));
  const block = /```sh\n([\s\S]*?)\n```/.exec(section)?.[1];
  if (block === undefined) throw new Error("docs/release.md has no ```sh block under 'One-line install'");
  return block;
}

const ONE_LINER = oneLinerFromDocs();
const scratch = mkdtempSync("/tmp/fibrpc-install-test-");

/**
 * dist/release over HTTP, in three versions: /intact/ as built, /corrupt/ with one byte of the
 * linux-x64 archive flipped, /unlisted/ with that archive's line gone from sha256sums.txt.
 */
function serveReleases(): Server<undefined> {
  const archive = readFileSync(join(RELEASE, ARCHIVE));
  const corrupt = Buffer.from(archive);
  const middle = Math.floor(corrupt.length / 2);
  corrupt[middle] = (corrupt[middle] ?? 0) ^ 0xff;
  const sums = readFileSync(join(RELEASE, "sha256sums.txt"), "utf8");
  const unlistedSums = sums
    .split("\n")
    .filter((line) => !line.endsWith(`  ${ARCHIVE}`))
    .join("\n");
  return Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(request) {
      const [, variant, file] = new URL(request.url).pathname.split("/");
      if (file === undefined || !readdirSync(RELEASE).includes(file)) return new Response("not found", { status: 404 });
      if (variant === "corrupt" && file === ARCHIVE) return new Response(corrupt);
      if (variant === "unlisted" && file === "sha256sums.txt") return new Response(unlistedSums);
      if (variant === "intact" || variant === "corrupt" || variant === "unlisted") return new Response(Bun.file(join(RELEASE, file)));
      return new Response("not found", { status: 404 });
    },
  });
}

let server: Server<undefined>;
beforeAll(() => {
  server = serveReleases();
});
afterAll(async () => {
  await server.stop(true);
  rmSync(scratch, { recursive: true, force: true });
});

/** Pastes the one-liner into /bin/sh with the release location, install folder and TMPDIR of one try. */
async function install(variant: "intact" | "corrupt" | "unlisted"): Promise<{ code: number; stdout: string; stderr: string; bin: string; tmp: string }> {
  const home = mkdtempSync(join(scratch, `${variant}-`));
  const bin = join(home, "bin");
  const tmp = join(home, "tmp");
  mkdirSync(tmp);
  const proc = Bun.spawn(["/bin/sh", "-c", ONE_LINER], {
    env: {
      PATH: "/usr/local/bin:/usr/bin:/bin",
      HOME: home,
      TMPDIR: tmp,
      FIBRPC_RELEASES: `http://127.0.0.1:${server.port}/${variant}`,
      FIBRPC_BIN_DIR: bin,
    },
    cwd: home,
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr, bin, tmp };
}

describe("the install one-liner of docs/release.md", () => {
  test("is for the version being released", () => {
    expect(ONE_LINER).toContain(`v=${pkg.version};`);
    expect(ONE_LINER.split("\n")).toHaveLength(1);
  });

  test("installs the archive's binary after checking it against sha256sums.txt", async () => {
    const result = await install("intact");
    expect(result.code).toBe(0);
    expect(result.stdout).toStartWith(`${ARCHIVE}: OK\nfibrpc ${pkg.version} (`);
    expect(result.stderr).toBe(`fibrpc: add ${result.bin} to your PATH\n`);
    const installed = join(result.bin, "fibrpc");
    expect(statSync(installed).mode & 0o777).toBe(0o755);
    expect(Bun.spawnSync([installed, "--version"]).stdout.toString()).toStartWith(`fibrpc ${pkg.version} (`);
    expect(readdirSync(result.tmp)).toEqual([]); // the download is cleaned up
  }, 60_000);

  test("refuses a corrupted archive: sha256sum says FAILED, exit 1, nothing installed", async () => {
    const result = await install("corrupt");
    expect(result.code).toBe(1);
    expect(result.stdout).toBe(`${ARCHIVE}: FAILED\n`);
    expect(result.stderr).toContain("WARNING: 1 computed checksum did NOT match");
    expect(existsSync(join(result.bin, "fibrpc"))).toBe(false);
    expect(readdirSync(result.tmp)).toEqual([]);
  }, 60_000);

  test("refuses an archive sha256sums.txt does not list: exit 1, nothing installed", async () => {
    const result = await install("unlisted");
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`fibrpc: ${ARCHIVE} is not in sha256sums.txt: not installing\n`);
    expect(existsSync(join(result.bin, "fibrpc"))).toBe(false);
    expect(readdirSync(result.tmp)).toEqual([]);
  }, 60_000);
});
