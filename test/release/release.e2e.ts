/**
 * The release artifacts as a user downloads them. Not part of `npm test` (the file name is not
 * *.test.ts): building every target fetches six foreign Bun runtimes and writes ~700 MB, so it
 * has its own suite, `npm run test:release` (builds, then runs this file), which .ci/run runs.
 */
import "../support/preflight.ts";
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { RELEASE_TARGETS, releaseFileName, type ReleaseTarget } from "../../scripts/release.ts";
import { BROKER_URL, deleteQueue, uniqueQueue } from "../support/broker.ts";
import { runFibrpc, ServeProcess } from "../support/fibrpc.ts";

const RELEASE = resolve(import.meta.dir, "../../dist/release");
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

const scratch = mkdtempSync("/tmp/fibrpc-release-test-");
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

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
  test("dist/release holds exactly one binary per target and sha256sums.txt", () => {
    const expected = [...RELEASE_TARGETS.map(releaseFileName), "sha256sums.txt"].sort();
    expect(readdirSync(RELEASE).sort()).toEqual(expected);
  });

  test("sha256sum -c accepts sha256sums.txt for every binary", () => {
    const check = Bun.spawnSync(["sha256sum", "-c", "sha256sums.txt"], { cwd: RELEASE });
    expect(check.exitCode).toBe(0);
    const lines = check.stdout.toString().trim().split("\n");
    expect(lines.sort()).toEqual(RELEASE_TARGETS.map((target) => `${releaseFileName(target)}: OK`).sort());
  });

  for (const target of RELEASE_TARGETS) {
    test(`${releaseFileName(target)} is a ${target} executable (file)`, () => {
      const type = Bun.spawnSync(["file", "-b", join(RELEASE, releaseFileName(target))]).stdout.toString();
      expect(type).toMatch(FILE_TYPE[target]);
    });
  }
});

/** The binaries this machine can run: x64 natively (baseline too; this CPU has AVX2), arm64 under qemu. */
const runnable: { name: string; binary: () => string }[] = [
  { name: "fibrpc-linux-x64", binary: () => join(RELEASE, "fibrpc-linux-x64") },
  { name: "fibrpc-linux-x64-baseline", binary: () => join(RELEASE, "fibrpc-linux-x64-baseline") },
  ...(canRunArm64 ? [{ name: "fibrpc-linux-arm64 (qemu-user-static)", binary: arm64Launcher }] : []),
];

for (const { name, binary } of runnable) {
  describe(name, () => {
    test("--version names the package version and the commit it was built from", async () => {
      const result = await runFibrpc(["--version"], { binary: binary() });
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`^fibrpc ${pkg.version.replaceAll(".", "\\.")} \\(${gitHead()}(-dirty)?\\)\\n$`));
    });

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
    });
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
  });
});
