/**
 * The container image of packaging/Dockerfile, built from dist/release with Debian's tools and no
 * registry, then run as a container runtime would run it (test/support/container-image.ts): its
 * user, entrypoint, environment defaults, the broker URL from a secret file, its HEALTHCHECK and
 * its stop signal. Part of `npm run test:release`; skipped, saying why, where podman or mmdebstrap
 * cannot be had.
 */
import "../support/preflight.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { BROKER_URL, deleteQueue, uniqueQueue } from "../support/broker.ts";
import { BuiltImage, imageToolsMissing, type Container } from "../support/container-image.ts";
import { runFibrpc } from "../support/fibrpc.ts";

const BINARY = resolve(import.meta.dir, "../../dist/release/fibrpc-linux-x64");
if (!existsSync(BINARY)) throw new Error(`${BINARY} is missing: run 'npm run test:release' (it builds first)`);

const missing = imageToolsMissing();
if (missing !== undefined) console.warn(`container image test skipped: ${missing}`);

describe.skipIf(missing !== undefined)("the image of packaging/Dockerfile", () => {
  let image: BuiltImage;
  const started: Container[] = [];
  const queues: string[] = [];

  beforeAll(async () => {
    image = await BuiltImage.build();
  }, 600_000); // a first run makes the Debian base: minutes on a slow mirror; later runs take seconds

  afterAll(async () => {
    for (const container of started) await container.kill();
    for (const queue of queues) await deleteQueue(queue);
    await image?.remove();
  });

  /** `docker run -e FIBRPC_QUEUE=<own queue> -e ... image`, waiting until it consumes. */
  async function startServe(env: Record<string, string>): Promise<{ container: Container; queue: string }> {
    const queue = uniqueQueue("image");
    queues.push(queue);
    const container = image.start({ FIBRPC_QUEUE: queue, ...env });
    started.push(container);
    if (!(await container.waitForLog(/consuming on queue/))) throw new Error(`serve in the image did not start:\n${container.log}`);
    return { container, queue };
  }

  test("its config: USER 10001:10001, ENTRYPOINT fibrpc, CMD serve, STOPSIGNAL SIGTERM, HEALTHCHECK by fibrpc health", () => {
    expect(image.config.User).toBe("10001:10001");
    expect(image.config.Entrypoint).toEqual(["/usr/local/bin/fibrpc"]);
    expect(image.config.Cmd).toEqual(["serve"]);
    expect(image.config.StopSignal).toBe("SIGTERM");
    // podman's OCI format would drop it; --format docker keeps it.
    expect(image.healthcheck?.Test).toEqual(["CMD", "/bin/sh", "-c", "fibrpc health; test $? -le 1"]);
  });

  test("its environment defaults are variables fibrpc reads: each is named in serve's or health's --help", async () => {
    const env = image.environment({});
    expect(env.FIBRPC_QUEUE).toBe("rpc_queue");
    const help = (await image.exec(["fibrpc", "serve", "--help"], {})).stdout + (await image.exec(["fibrpc", "health", "--help"], {})).stdout;
    const read = new Set([...help.matchAll(/env ([A-Z][A-Z0-9_]*)/g)].map((match) => match[1]));
    const unread = Object.keys(env).filter((name) => name !== "PATH" && !read.has(name));
    expect(unread).toEqual([]);
  });

  test("its user: uid and gid 10001 with a group of their own, no login shell; the binary is root's, 0755", () => {
    const [uid, gid] = image.config.User.split(":");
    const passwd = image
      .readFile("etc/passwd")
      .split("\n")
      .find((line) => line.split(":")[2] === uid);
    expect(passwd).toBe(`fibrpc:x:${uid}:${gid}::/nonexistent:/usr/sbin/nologin`);
    expect(image.readFile("etc/group").split("\n")).toContain(`fibrpc:x:${gid}:`);
    const binary = statSync(join(image.rootfs, "usr/local/bin/fibrpc"));
    expect({ uid: binary.uid, mode: (binary.mode & 0o777).toString(8) }).toEqual({ uid: 0, mode: "755" });
    expect(Buffer.compare(readFileSync(join(image.rootfs, "usr/local/bin/fibrpc")), readFileSync(BINARY))).toBe(0);
  });

  test("the entrypoint runs as PID 1 with the image's uid and gid, logs JSON by default and answers calls", async () => {
    const { container, queue } = await startServe({ AMQP_URL: BROKER_URL });
    const status = readFileSync(`/proc/${await container.pid1()}/status`, "utf8");
    expect(status).toMatch(/^Uid:\t10001\t10001\t10001\t10001$/m);
    expect(status).toMatch(/^Gid:\t10001\t10001\t10001\t10001$/m);
    expect(status).toMatch(/^NSpid:\t\d+\t1$/m); // PID 1 in its own namespace, as under Docker
    const lines = container.log
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { level: string; msg: string });
    expect(lines.map((line) => line.msg)).toContainEqual(expect.stringContaining("connected to amqp://"));
    expect(await runFibrpc(["call", "30", "--queue", queue])).toMatchObject({ code: 0, stdout: "832040\n" });
  }, 60_000);

  // Docker and Compose secrets are files under /run/secrets/ (root's, mode 0444 unless told otherwise).

  // Docker and Compose secrets are files under /run/secrets/ (root's, mode 0444 unless told otherwise).
  test("the broker URL from a secret file (AMQP_URL_FILE): serve and the HEALTHCHECK use it; the password is in no argv, environment or log", async () => {
    const help = (await image.exec(["fibrpc", "serve", "--help"], {})).stdout;
    if (!help.includes("AMQP_URL_FILE")) {
      console.warn("image test: this fibrpc has no AMQP_URL_FILE yet (branch cli); the secret-file check is skipped");
      return;
    }
    const secrets = join(image.rootfs, "run/secrets");
    mkdirSync(secrets, { recursive: true });
    writeFileSync(join(secrets, "amqp_url"), `${BROKER_URL}\n`);
    chmodSync(join(secrets, "amqp_url"), 0o444);
    const env = { AMQP_URL_FILE: "/run/secrets/amqp_url" };
    const { container, queue } = await startServe(env);

    // What must never show: the password as it sits in the URL (the redacted form is user:***@).
    const secretPart = `:${new URL(BROKER_URL).password}@`;
    const pid = await container.pid1();
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
    const environ = readFileSync(`/proc/${pid}/environ`, "utf8");
    expect(cmdline.trim()).toBe("/usr/local/bin/fibrpc serve");
    expect(environ).toContain("AMQP_URL_FILE=/run/secrets/amqp_url");
    for (const seen of [cmdline, environ, container.log]) expect(seen).not.toContain(secretPart);
    expect(container.log).toContain(`connected to amqp://${new URL(BROKER_URL).username}:***@`);

    const healthy = await image.exec((image.healthcheck?.Test ?? []).slice(1), { ...env, FIBRPC_QUEUE: queue });
    expect(healthy.code).toBe(0);
    expect(healthy.stdout + healthy.stderr).not.toContain(secretPart);
    await container.signal("SIGTERM");
    expect(await container.exited).toBe(0);
  }, 60_000);

  test("HEALTHCHECK: exit 0 (healthy) while serve consumes, 1 (unhealthy) once it has stopped", async () => {
    const { container, queue } = await startServe({ AMQP_URL: BROKER_URL });
    const healthcheck = (image.healthcheck?.Test ?? []).slice(1); // after "CMD"
    const env = { FIBRPC_QUEUE: queue, AMQP_URL: BROKER_URL };
    const healthy = await image.exec(healthcheck, env);
    expect(healthy.stdout).toStartWith(`FIBRPC OK - ${queue}: 1 consumer`);
    expect(healthy.code).toBe(0);
    await container.signal("SIGTERM");
    expect(await container.exited).toBe(0);
    const unhealthy = await image.exec(healthcheck, env);
    expect(unhealthy.stdout).toStartWith(`FIBRPC CRITICAL - ${queue}:`);
    expect(unhealthy.code).toBe(1);
  }, 60_000);

  test("the stop signal (SIGTERM to PID 1) drains and exits 0", async () => {
    const { container } = await startServe({ AMQP_URL: BROKER_URL });
    await container.signal("SIGTERM");
    expect(await container.exited).toBe(0);
    expect(container.log).toMatch(/"msg":"stopped: 0 in flight answered/);
  }, 60_000);
});
