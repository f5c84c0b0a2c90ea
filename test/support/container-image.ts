/**
 * packaging/Dockerfile, built and run on a machine with neither a registry nor a container runtime
 * that can start containers (this sandbox refuses podman run its setrlimit and cgroups):
 *   - the base image is made from Debian's own packages by mmdebstrap (cached: .cache/image/) and
 *     imported under the name the Dockerfile asks for, into a podman store of the test's own;
 *   - podman builds the image (chroot isolation, docker format so HEALTHCHECK is kept);
 *   - `podman create` + `podman export` give its filesystem, `podman image inspect` its config;
 *   - a "container" is the image's entrypoint run the way a runtime runs it: in new mount and PID
 *     namespaces (so it is PID 1, with its own /proc), chrooted into that filesystem, as the image's
 *     USER, with exactly the image's environment plus what the test passes (docker run -e), sharing
 *     the host's network (the broker is on 127.0.0.1).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { eventually } from "./broker.ts";

const ROOT = resolve(import.meta.dir, "../..");
/** Gitignored; delete it to fetch a fresh base (security updates). */
export const IMAGE_CACHE = join(ROOT, ".cache/image");
const BASE_TARBALL = join(IMAGE_CACHE, "debian-bookworm-minbase.tar");
const BASE_NAME = "docker.io/library/debian:bookworm-slim"; // what `FROM debian:bookworm-slim` resolves to
const IMAGE_NAME = "localhost/fibrpc:test";

/** Why the image cannot be built and run here, or undefined when it can. */
export function imageToolsMissing(): string | undefined {
  const missing = ["podman", "mmdebstrap", "unshare", "chroot"].filter((tool) => Bun.which(tool) === null);
  if (missing.length > 0) return `${missing.join(", ")} not installed ('bash scripts/test-env.sh --release' installs them as root on Debian)`;
  if (process.getuid?.() !== 0) return "building with podman --isolation=chroot and running in namespaces needs root";
  return undefined;
}

async function run(argv: string[], options: { stdout?: "pipe" | number } = {}): Promise<string> {
  const proc = Bun.spawn(argv, { stdin: "ignore", stdout: options.stdout ?? "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([
    proc.stdout instanceof ReadableStream ? new Response(proc.stdout).text() : Promise.resolve(""),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`${argv.join(" ")} exited ${code}:\n${stderr}`);
  return stdout;
}

/** The Debian base, made once from Debian's packages (~25 s to a few minutes) and kept in .cache/image/. */
async function baseTarball(): Promise<string> {
  if (existsSync(BASE_TARBALL)) return BASE_TARBALL;
  mkdirSync(IMAGE_CACHE, { recursive: true });
  const partial = BASE_TARBALL.replace(/\.tar$/, ".partial.tar"); // mmdebstrap picks the format by the extension
  rmSync(partial, { recursive: true, force: true });
  await run(["mmdebstrap", "--quiet", "--variant=minbase", "--format=tar", "bookworm", partial]);
  renameSync(partial, BASE_TARBALL); // only a finished tarball is ever found by the next run
  return BASE_TARBALL;
}

export interface ImageConfig {
  User: string;
  Env: string[];
  Entrypoint: string[];
  Cmd: string[];
  StopSignal?: string;
}

export interface HealthConfig {
  Test: string[];
  Interval: number;
  Timeout: number;
  StartPeriod: number;
  Retries: number;
}

/** podman with a store of its own in `dir`: nothing of the machine's own images is seen or touched. */
function podmanIn(dir: string): string[] {
  return ["podman", "--root", join(dir, "storage"), "--runroot", join(dir, "run"), "--cgroup-manager", "cgroupfs", "--events-backend", "file"];
}

/** Empties the store (podman keeps its overlay folder mounted onto itself), then deletes `dir`. */
async function removeStore(dir: string): Promise<void> {
  await run([...podmanIn(dir), "system", "reset", "--force"]).catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
}

export class BuiltImage {
  private constructor(
    private readonly dir: string,
    readonly config: ImageConfig,
    readonly healthcheck: HealthConfig | undefined,
    /** The image's filesystem, as `podman export` gives it. */
    readonly rootfs: string,
    /** What the build printed, for the transcript. */
    readonly buildLog: string,
  ) {}

  /** Builds packaging/Dockerfile from the repository (the binary must be in dist/release). */
  static async build(): Promise<BuiltImage> {
    const dir = mkdtempSync("/tmp/fibrpc-image-");
    const podman = podmanIn(dir);
    try {
      await run([...podman, "import", "--quiet", await baseTarball(), BASE_NAME]);
      const buildLog = await run([
        ...podman,
        "build",
        "--pull=never",
        "--isolation=chroot",
        "--format",
        "docker",
        "--file",
        join(ROOT, "packaging/Dockerfile"),
        "--tag",
        IMAGE_NAME,
        ROOT,
      ]);
      const [inspected] = JSON.parse(await run([...podman, "image", "inspect", IMAGE_NAME])) as [{ Config: ImageConfig; Healthcheck?: HealthConfig }];
      const container = (await run([...podman, "create", "--no-healthcheck", IMAGE_NAME])).trim();
      const rootfs = join(dir, "rootfs");
      mkdirSync(rootfs);
      const exported = join(dir, "rootfs.tar");
      await run([...podman, "export", "--output", exported, container]);
      await run(["tar", "-xf", exported, "-C", rootfs]);
      rmSync(exported);
      await run([...podman, "system", "reset", "--force"]); // the exported filesystem is all the tests need
      return new BuiltImage(dir, inspected.Config, inspected.Healthcheck, rootfs, buildLog);
    } catch (error) {
      await removeStore(dir);
      throw error;
    }
  }

  /** The image's environment with `overrides` on top, as `docker run -e` does. */
  environment(overrides: Record<string, string>): Record<string, string> {
    const env: Record<string, string> = {};
    for (const entry of this.config.Env) {
      const at = entry.indexOf("=");
      env[entry.slice(0, at)] = entry.slice(at + 1);
    }
    return { ...env, ...overrides };
  }

  /** argv that runs `command` in a fresh "container" of this image. */
  containerArgv(command: string[]): string[] {
    return [
      "/usr/bin/unshare",
      "--mount",
      "--pid",
      "--fork",
      "--kill-child",
      `--mount-proc=${join(this.rootfs, "proc")}`,
      "/usr/sbin/chroot",
      `--userspec=${this.config.User}`,
      this.rootfs,
      ...command,
    ];
  }

  /** `docker run -e ... IMAGE [command]`: the entrypoint with `command`, or with the image's CMD. */
  start(overrides: Record<string, string>, command: string[] = this.config.Cmd): Container {
    return new Container(this.containerArgv([...this.config.Entrypoint, ...command]), this.environment(overrides));
  }

  /** `docker exec`-like: runs `argv` as the image's user with its environment; waits for the exit. */
  async exec(argv: string[], overrides: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
    const proc = Bun.spawn(this.containerArgv(argv), { env: this.environment(overrides), stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    return { code, stdout, stderr };
  }

  readFile(path: string): string {
    return readFileSync(join(this.rootfs, path), "utf8");
  }

  async remove(): Promise<void> {
    await removeStore(this.dir);
  }
}

/** The entrypoint running as PID 1 of its own PID namespace; its output collected. */
export class Container {
  private output = "";
  private readonly proc: Subprocess<"ignore", "pipe", "pipe">;
  readonly exited: Promise<number>;

  constructor(argv: string[], env: Record<string, string>) {
    this.proc = Bun.spawn(argv, { env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    this.exited = this.proc.exited;
    void this.collect(this.proc.stdout);
    void this.collect(this.proc.stderr);
  }

  get log(): string {
    return this.output;
  }

  async waitForLog(pattern: RegExp, timeoutMs = 30_000): Promise<boolean> {
    return eventually(() => pattern.test(this.output), timeoutMs, 20);
  }

  /** The host's pid of the container's PID 1 (unshare's only child). */
  async pid1(): Promise<number> {
    const childrenFile = `/proc/${this.proc.pid}/task/${this.proc.pid}/children`;
    let pid = Number.NaN;
    await eventually(
      () => {
        pid = Number(readFileSync(childrenFile, "utf8").trim().split(" ")[0]);
        return Number.isInteger(pid) && pid > 0;
      },
      10_000,
      10,
    );
    return pid;
  }

  /** Sends `signal` to PID 1 (what `docker stop` does with the image's STOPSIGNAL). */
  async signal(signal: NodeJS.Signals): Promise<void> {
    process.kill(await this.pid1(), signal);
  }

  /** Kills it whatever state it is in (unshare --kill-child takes PID 1 along); safe after it exited. */
  async kill(): Promise<void> {
    this.proc.kill("SIGKILL");
    await this.exited;
  }

  private async collect(stream: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    for await (const chunk of stream) this.output += decoder.decode(chunk, { stream: true });
  }
}
