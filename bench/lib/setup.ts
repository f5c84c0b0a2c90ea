/**
 * Makes the machine able to run the benchmark from a fresh clone: a broker, Go with Debian's
 * amqp091-go, hyperfine (optional), dist/fibrpc and the compiled baselines. Installs with
 * apt-get only as root; otherwise says what is missing.
 */
import { existsSync, mkdirSync, statSync } from "node:fs";
import { resolve } from "node:path";

export const ROOT = resolve(import.meta.dir, "../..");
export const BUILD_DIR = resolve(ROOT, "dist/bench");
export const FIBRPC = resolve(ROOT, "dist/fibrpc");
export const GO_SERVER = resolve(BUILD_DIR, "go-server");
export const GO_CLIENT = resolve(BUILD_DIR, "go-client");
export const BUN = resolve(ROOT, "node_modules/.bin/bun");
const GOPATH = "/usr/share/gocode";
const AMQP091 = `${GOPATH}/src/github.com/rabbitmq/amqp091-go`;

export function log(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

function has(command: string): boolean {
  return Bun.which(command) !== null;
}

function run(argv: string[], env?: Record<string, string>): void {
  const result = Bun.spawnSync(argv, { cwd: ROOT, stdout: "inherit", stderr: "inherit", env: { ...process.env, ...env } });
  if (!result.success) throw new Error(`'${argv.join(" ")}' failed with exit ${result.exitCode}`);
}

function aptInstall(packages: string[]): boolean {
  if (packages.length === 0) return true;
  if (process.getuid?.() !== 0 || !has("apt-get")) {
    log(`missing ${packages.join(", ")}: install them (e.g. 'sudo apt-get install ${packages.join(" ")}')`);
    return false;
  }
  log(`installing ${packages.join(" ")}`);
  run(["apt-get", "update", "-qq"]);
  run(["apt-get", "install", "-y", "-qq", ...packages], { DEBIAN_FRONTEND: "noninteractive" });
  return true;
}

export interface Tools {
  hyperfine: boolean;
  node: boolean;
}

/** A broker to measure against: AMQP_URL's, or the local one, started as `npm test` starts it. */
async function ensureBroker(): Promise<void> {
  if (process.env.AMQP_URL) return;
  try {
    const socket = await Bun.connect({ hostname: "127.0.0.1", port: 5672, socket: { data() {} } });
    socket.end();
  } catch {
    run(["bash", "scripts/test-env.sh"]);
  }
}

export async function prepare(options: { rebuild: boolean }): Promise<Tools> {
  await ensureBroker();
  const missing = [...(has("go") ? [] : ["golang-go"]), ...(existsSync(AMQP091) ? [] : ["golang-github-rabbitmq-amqp091-go-dev"])];
  if (!aptInstall(missing)) throw new Error("Go and amqp091-go are needed for the baselines");
  if (!has("hyperfine")) aptInstall(["hyperfine"]);

  if (options.rebuild || !existsSync(FIBRPC)) {
    log("building dist/fibrpc");
    run([BUN, "scripts/build.ts"]);
  }
  mkdirSync(BUILD_DIR, { recursive: true });
  for (const [name, out] of [
    ["go-server", GO_SERVER],
    ["go-client", GO_CLIENT],
  ] as const) {
    const source = resolve(ROOT, `bench/baselines/${name}/main.go`);
    if (!options.rebuild && existsSync(out) && statSync(out).mtimeMs >= statSync(source).mtimeMs) continue;
    log(`building the Go baseline ${name}`);
    // GOPATH mode against Debian's packaged library: no module download, works offline.
    run(["go", "build", "-o", out, `./bench/baselines/${name}`], {
      GO111MODULE: "off",
      GOPATH,
      GOFLAGS: "",
      GOCACHE: process.env.GOCACHE ?? resolve(BUILD_DIR, "go-cache"),
    });
  }
  return { hyperfine: has("hyperfine"), node: has("node") };
}
