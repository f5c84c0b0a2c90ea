/**
 * scripts/archive.ts against the readers users have: GNU tar and Info-ZIP's unzip (and Bun's own
 * tar reader), on small archives with what a release has (a folder, an executable, text, an empty
 * file) and what it could grow (a path over tar's 100-byte name field).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tarBytes, tarGzBytes, zipBytes, type ArchiveEntry } from "../../scripts/archive.ts";

const scratch = mkdtempSync("/tmp/fibrpc-archive-test-");
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const MTIME = 1_764_460_800; // 2025-11-30T00:00:00Z
const text = (value: string) => new TextEncoder().encode(value);
const longPath = `pkg/${"d".repeat(90)}/a-name-that-makes-the-path-longer-than-100-bytes.txt`;
const executable = new Uint8Array(70_000).map((_, index) => (index * 31) % 251); // several tar blocks, not a multiple of 512
const ENTRIES: ArchiveEntry[] = [
  { path: "pkg/", mode: 0o755 },
  { path: "pkg/tool", data: executable, mode: 0o755 },
  { path: "pkg/README.md", data: text("héllo\n"), mode: 0o644 },
  { path: "pkg/empty", data: new Uint8Array(0), mode: 0o644 },
  { path: longPath, data: text("long\n"), mode: 0o644 },
];

function run(argv: string[], cwd = scratch): string {
  const result = Bun.spawnSync(argv, { cwd, stderr: "pipe" });
  if (!result.success) throw new Error(`${argv.join(" ")}: ${result.stderr.toString()}`);
  return result.stdout.toString();
}

function extractedAs(dir: string): Record<string, string> {
  const seen: Record<string, string> = {};
  for (const entry of ENTRIES) {
    const path = join(dir, entry.path);
    const mode = (statSync(path).mode & 0o777).toString(8);
    seen[entry.path] = entry.path.endsWith("/")
      ? mode
      : `${mode} ${Buffer.compare(readFileSync(path), Buffer.from(entry.data ?? [])) === 0 ? "same" : "DIFFERENT"}`;
  }
  return seen;
}

const expected = Object.fromEntries(ENTRIES.map((entry) => [entry.path, entry.path.endsWith("/") ? "755" : `${entry.mode.toString(8)} same`]));

describe("tar.gz", () => {
  const archive = join(scratch, "test.tar.gz");
  writeFileSync(archive, tarGzBytes(ENTRIES, MTIME));

  test.skipIf(Bun.which("tar") === null)("GNU tar lists it as root's, with the modes and the timestamp, and extracts the same bytes", () => {
    const listing = run(["tar", "--numeric-owner", "--utc", "-tvzf", archive]).trim().split("\n");
    expect(listing[1]).toMatch(/^-rwxr-xr-x 0\/0 +70000 2025-11-30 00:00 pkg\/tool$/);
    expect(listing.map((line) => line.split(/\s+/).slice(5).join(" "))).toEqual(ENTRIES.map((entry) => entry.path));
    const dir = mkdtempSync(join(scratch, "tar-"));
    run(["tar", "-xzf", archive, "-C", dir]);
    expect(extractedAs(dir)).toEqual(expected);
  });

  test("Bun's tar reader reads it too", async () => {
    const files = await new Bun.Archive(readFileSync(archive)).files();
    expect(await files.get("pkg/README.md")?.text()).toBe("héllo\n");
    expect(files.get(longPath)?.size).toBe(5);
  });

  test("the same entries give the same bytes (reproducible)", () => {
    expect(Buffer.compare(Buffer.from(tarBytes(ENTRIES, MTIME)), Buffer.from(tarBytes(ENTRIES, MTIME)))).toBe(0);
    expect(tarBytes(ENTRIES, MTIME).length % 512).toBe(0);
  });
});

describe("zip", () => {
  const archive = join(scratch, "test.zip");
  writeFileSync(archive, zipBytes(ENTRIES, MTIME));

  test.skipIf(Bun.which("unzip") === null)("unzip -t finds no error, and it extracts the same bytes with the Unix modes", () => {
    expect(run(["unzip", "-t", archive])).toContain("No errors detected in compressed data");
    const dir = mkdtempSync(join(scratch, "zip-"));
    run(["unzip", "-q", archive, "-d", dir]);
    expect(extractedAs(dir)).toEqual(expected);
  });
});
