/**
 * The release artifacts as a user downloads them. Not part of `npm test` (the file name is not
 * *.test.ts): building every target fetches six foreign Bun runtimes and writes ~1 GB, so it
 * has its own suite, `npm run test:release` (builds, then runs test/release/), which .ci/run runs.
 */
import "../support/preflight.ts";
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { archiveFileName, archiveRootName, COMPLETION_FILES, RELEASE_TARGETS, releaseFileName, type ReleaseTarget } from "../../scripts/release.ts";
import { BROKER_URL, deleteQueue, uniqueQueue } from "../support/broker.ts";
import { runFibrpc, ServeProcess } from "../support/fibrpc.ts";

const ROOT = resolve(import.meta.dir, "../..");
const RELEASE = join(ROOT, "dist/release");
if (!existsSync(join(RELEASE, "sha256sums.txt"))) {
  throw new Error(`${RELEASE} has no release: run 'npm run test:release' (it builds first) or 'npm run release'`);
}

/** What `file -b` must say for each target: format and architecture. */
const FILE_TYPE: Record<ReleaseTarget, RegExp> = {
  "bun-linux-x64": /^ELF 64-bit LSB .*x86-64.*ld-linux-x86-64/,
  "bun-linux-x64-baseline": /^ELF 64-bit LSB .*x86-64.*ld-linux-x86-64/,
  "bun-linux-arm64": /^ELF 64-bit LSB .*ARM aarch64/,
  "bun-linux-x64-musl": /^ELF 64-bit LSB .*x86-64.*ld-musl-x86_64/,
  "bun-darwin-x64": /^Mach-O 64-bit x86_64 executable/,
  "bun-darwin-arm64": /^Mach-O 64-bit arm64 executable/,
  "bun-windows-x64": /^PE32\+ executable \(console\) x86-64.*Windows/,
};

// Bun gives each test 5 s unless told otherwise: whatever reads the ~1 GB of files, or runs a binary
// under qemu, says how long it may take.
const scratch = mkdtempSync("/tmp/fibrpc-release-test-");
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const isWindows = (target: ReleaseTarget) => target === "bun-windows-x64";
const archivePath = (target: ReleaseTarget) => join(RELEASE, archiveFileName(target));

/** What `sha256sums.txt` says of each file. */
const published = new Map(
  readFileSync(join(RELEASE, "sha256sums.txt"), "utf8")
    .trim()
    .split("\n")
    .map((line) => [line.slice(66), line.slice(0, 64)] as const),
);

function run(argv: string[], options: { cwd?: string } = {}): string {
  const result = Bun.spawnSync(argv, { cwd: options.cwd ?? scratch, stderr: "pipe" });
  if (!result.success) throw new Error(`${argv.join(" ")} exited ${result.exitCode}: ${result.stderr.toString()}`);
  return result.stdout.toString();
}

/** The SHA-256 of a file inside an archive, streamed out of it by the system's tar or unzip. */
async function sha256InArchive(target: ReleaseTarget, path: string): Promise<string> {
  const argv = isWindows(target) ? ["unzip", "-p", archivePath(target), path] : ["tar", "-xzOf", archivePath(target), path];
  const proc = Bun.spawn(argv, { stdout: "pipe", stderr: "ignore" });
  const hasher = new Bun.CryptoHasher("sha256");
  for await (const chunk of proc.stdout) hasher.update(chunk);
  expect(await proc.exited).toBe(0);
  return hasher.digest("hex");
}

const sha256 = (data: Uint8Array | string) => new Bun.CryptoHasher("sha256").update(data).digest("hex");

/** The linux-x64 archive extracted as a user would (`tar -xzf`): the binary the runs below use. */
const EXTRACTED = join(scratch, "extracted");
run(["mkdir", "-p", EXTRACTED]);
run(["tar", "-xzf", archivePath("bun-linux-x64"), "-C", EXTRACTED]);
const EXTRACTED_BINARY = join(EXTRACTED, archiveRootName("bun-linux-x64"), "fibrpc");

/** Debian's qemu-user-static runs the arm64 binary with the arm64 libc from libc6-arm64-cross. */
const ARM64_SYSROOT = "/usr/aarch64-linux-gnu";
const qemu = Bun.which("qemu-aarch64-static");
const canRunArm64 = qemu !== null && existsSync(join(ARM64_SYSROOT, "lib/ld-linux-aarch64.so.1"));
if (!canRunArm64) console.warn("release test: qemu-aarch64-static or libc6-arm64-cross missing; the arm64 binary is not run");

/** binfmt_misc is often unavailable in containers, so the emulator is called explicitly, via a wrapper. */
function arm64Launcher(): string {
  const launcher = join(scratch, "fibrpc-linux-arm64-qemu");
  writeFileSync(launcher, `#!/bin/sh\nexec ${qemu} -L ${ARM64_SYSROOT} ${join(RELEASE, "fibrpc-linux-arm64")} "$@"\n`);
  chmodSync(launcher, 0o755);
  return launcher;
}

function gitHead(): string {
  return Bun.spawnSync(["git", "rev-parse", "--short=12", "HEAD"]).stdout.toString().trim();
}

describe("release artifacts", () => {
  const expectedFiles = [...RELEASE_TARGETS.flatMap((target) => [releaseFileName(target), archiveFileName(target)]), "sha256sums.txt"].sort();

  test("dist/release holds exactly one binary and one archive per target, and sha256sums.txt", () => {
    expect(readdirSync(RELEASE).sort()).toEqual(expectedFiles);
  });

  test("sha256sum -c accepts sha256sums.txt, which covers every other file", () => {
    const check = Bun.spawnSync(["sha256sum", "-c", "sha256sums.txt"], { cwd: RELEASE });
    expect(check.exitCode).toBe(0);
    const lines = check.stdout.toString().trim().split("\n");
    expect(lines.sort()).toEqual(
      expectedFiles
        .filter((file) => file !== "sha256sums.txt")
        .map((file) => `${file}: OK`)
        .sort(),
    );
  }, 60_000);

  for (const target of RELEASE_TARGETS) {
    test(`${releaseFileName(target)} is a ${target} executable (file)`, () => {
      const type = Bun.spawnSync(["file", "-b", join(RELEASE, releaseFileName(target))]).stdout.toString();
      expect(type).toMatch(FILE_TYPE[target]);
    });
  }
});

describe("release archives", () => {
  const completionsFromBinary = Object.fromEntries(Object.keys(COMPLETION_FILES).map((shell) => [shell, sha256(run([EXTRACTED_BINARY, "completion", shell]))]));

  for (const target of RELEASE_TARGETS) {
    const root = archiveRootName(target);
    const binary = `${root}/fibrpc${isWindows(target) ? ".exe" : ""}`;

    test(`${archiveFileName(target)} holds its folder: the binary (0755), README.md, LICENSE, three completion scripts`, () => {
      const listing = isWindows(target)
        ? run(["unzip", "-Z", archivePath(target)])
            .trim()
            .split("\n")
            .filter((line) => /^[-d]r/.test(line))
            .map((line) => `${line.split(/\s+/)[0]} ${line.split(/\s+/).at(-1)}`)
        : run(["tar", "-tvzf", archivePath(target)])
            .trim()
            .split("\n")
            .map((line) => `${line.split(/\s+/)[0]} ${line.split(/\s+/).at(-1)}`);
      expect(listing).toEqual([
        `drwxr-xr-x ${root}/`,
        `-rwxr-xr-x ${binary}`,
        `-rw-r--r-- ${root}/README.md`,
        `-rw-r--r-- ${root}/LICENSE`,
        `drwxr-xr-x ${root}/completions/`,
        ...Object.values(COMPLETION_FILES).map((path) => `-rw-r--r-- ${root}/${path}`),
      ]);
      if (isWindows(target)) expect(run(["unzip", "-t", archivePath(target)])).toContain("No errors detected");
    }, 60_000);

    test(`${archiveFileName(target)}: the binary is ${releaseFileName(target)} byte for byte; README, LICENSE and scripts as shipped`, async () => {
      expect(await sha256InArchive(target, binary)).toBe(published.get(releaseFileName(target)) ?? "not published");
      expect(await sha256InArchive(target, `${root}/README.md`)).toBe(sha256(readFileSync(join(ROOT, "README.md"))));
      expect(await sha256InArchive(target, `${root}/LICENSE`)).toBe(sha256(readFileSync(join(ROOT, "LICENSE"))));
      for (const [shell, path] of Object.entries(COMPLETION_FILES)) {
        expect({ shell, sha256: await sha256InArchive(target, `${root}/${path}`) }).toEqual({ shell, sha256: completionsFromBinary[shell] ?? "" });
      }
    }, 60_000);
  }
});

/** The binaries this machine can run: x64 natively (baseline too; this CPU has AVX2), arm64 under qemu. */
const runnable: { name: string; binary: () => string }[] = [
  { name: `fibrpc from ${archiveFileName("bun-linux-x64")}, extracted with tar`, binary: () => EXTRACTED_BINARY },
  { name: "fibrpc-linux-x64-baseline", binary: () => join(RELEASE, "fibrpc-linux-x64-baseline") },
  ...(canRunArm64 ? [{ name: "fibrpc-linux-arm64 (qemu-user-static)", binary: arm64Launcher }] : []),
];

for (const { name, binary } of runnable) {
  describe(name, () => {
    test("--version names the package version and the commit it was built from", async () => {
      const result = await runFibrpc(["--version"], { binary: binary() });
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`^fibrpc ${pkg.version.replaceAll(".", "\\.")} \\(${gitHead()}(-dirty)?\\)\\n$`));
    }, 30_000);

    test("serves and calls end to end against the broker", async () => {
      const queue = uniqueQueue("release");
      const serve = await ServeProcess.start(["--queue", queue], {}, { binary: binary(), startTimeoutMs: 30_000 });
      try {
        const result = await runFibrpc(["call", "30", "90", "--queue", queue], { binary: binary() });
        expect(result).toMatchObject({ code: 0, stdout: "832040\n2880067194370816120\n", stderr: "" });
      } finally {
        expect(await serve.stop()).toBe(0);
        await deleteQueue(queue);
      }
    }, 60_000);
  });
}

describe("a stray .env or bunfig.toml in the working directory", () => {
  test("is ignored by the release binary", async () => {
    const cwd = mkdtempSync(join(scratch, "cwd-"));
    // Each of these would change the outcome if read: a dead broker port, an invalid timeout, a preload.
    writeFileSync(join(cwd, ".env"), "AMQP_URL=amqp://guest:guest@127.0.0.1:1\nFIBRPC_CALL_TIMEOUT=not-a-duration\n");
    writeFileSync(join(cwd, "bunfig.toml"), 'preload = ["./preload.ts"]\n');
    writeFileSync(join(cwd, "preload.ts"), 'console.error("PRELOAD FROM CWD RAN");\n');
    const binary = join(RELEASE, "fibrpc-linux-x64");
    const queue = uniqueQueue("release-dotenv");
    const serve = await ServeProcess.start(["--queue", queue], {}, { binary });
    try {
      // AMQP_URL unset, so a .env that was read would win over the built-in default URL.
      const defaultBroker = /^amqp:\/\/guest:guest@(127\.0\.0\.1|localhost):5672\/?$/.test(BROKER_URL);
      const urlArgs = defaultBroker ? [] : ["--url", BROKER_URL];
      const result = await runFibrpc(["call", "10", "--queue", queue, ...urlArgs], { binary, cwd, env: { AMQP_URL: undefined } });
      expect(result).toMatchObject({ code: 0, stdout: "55\n", stderr: "" });
    } finally {
      await serve.stop();
      await deleteQueue(queue);
    }
  }, 30_000);
});
