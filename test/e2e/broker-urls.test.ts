/** Several broker URLs, URLs from a file, and a password kept out of `ps`: the binary as a user runs it. */
import "../support/preflight.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BROKER_URL, deleteQueue, uniqueQueue } from "../support/broker.ts";
import { runFibrpc, ServeProcess, serveDuringSuite } from "../support/fibrpc.ts";

const DEAD_NODE = "amqp://guest:guest@127.0.0.1:1";
const SECRET = `urlfile-${crypto.randomUUID()}`;
const USER = `fibrpc-urlfile-${process.pid}`;
const SECRET_URL = BROKER_URL.replace(/\/\/[^@]*@/, `//${USER}:${SECRET}@`);
const NO_ENV_URL = { AMQP_URL: undefined };

async function rabbitmqctl(...args: string[]): Promise<void> {
  const proc = Bun.spawn(["rabbitmqctl", ...args], { stdout: "ignore", stderr: "ignore" });
  if ((await proc.exited) !== 0) throw new Error(`rabbitmqctl ${args.join(" ")} failed`);
}

const scratch = mkdtempSync(join(tmpdir(), "fibrpc-url-file-"));
const secretFile = join(scratch, "amqp-url");

beforeAll(async () => {
  await rabbitmqctl("add_user", USER, SECRET);
  await rabbitmqctl("set_permissions", "-p", "/", USER, ".*", ".*", ".*");
  writeFileSync(secretFile, `${SECRET_URL}\n`);
  chmodSync(secretFile, 0o600);
});

afterAll(async () => {
  await rabbitmqctl("delete_user", USER).catch(() => {});
  rmSync(scratch, { recursive: true, force: true });
});

describe("several broker URLs: any node that answers will do", () => {
  const { queue } = serveDuringSuite("url-list");

  test("--url repeated, one node dead", async () => {
    const result = await runFibrpc(["call", "30", "--queue", queue, "--url", DEAD_NODE, "--url", BROKER_URL], { env: NO_ENV_URL });
    expect(result).toMatchObject({ code: 0, stdout: "832040\n", stderr: "" });
  });

  test("AMQP_URL holding a list, separated by a comma and whitespace", async () => {
    const result = await runFibrpc(["call", "30", "--queue", queue], { env: { AMQP_URL: `${DEAD_NODE}, ${BROKER_URL}` } });
    expect(result).toMatchObject({ code: 0, stdout: "832040\n", stderr: "" });
  });

  test("a bad URL in the list is bad usage, naming which one, its password hidden", async () => {
    const result = await runFibrpc(["call", "30", "--url", BROKER_URL, "--url", "amqp://u:S3cr3tXYZ@host:99999"], { env: NO_ENV_URL });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe("fibrpc: --url (URL 2 of 2) is not a URL: 'amqp://u:***@host:99999' (expected amqp://user:password@host:5672/vhost)\n");
  });

  test("--url-file and AMQP_URL_FILE: the URL from a file, no warning, no password anywhere", async () => {
    for (const [args, env] of [
      [["--url-file", secretFile], NO_ENV_URL],
      [[], { ...NO_ENV_URL, AMQP_URL_FILE: secretFile }],
    ] as const) {
      const result = await runFibrpc(["call", "30", "--queue", queue, ...args], { env });
      expect(result).toMatchObject({ code: 0, stdout: "832040\n", stderr: "" });
    }
  });

  test("a password on the command line: one warning line naming AMQP_URL_FILE (health: on stderr, stdout keeps the plugin line)", async () => {
    const call = await runFibrpc(["call", "30", "--queue", queue, "--url", SECRET_URL], { env: NO_ENV_URL });
    expect(call.code).toBe(0);
    expect(call.stderr).toBe(
      "fibrpc: WARNING: a password given with --url is visible to other users of this machine (ps); put the URL in a file and point AMQP_URL_FILE (or --url-file) at it\n",
    );
    const health = await runFibrpc(["health", "--queue", queue, "--url", SECRET_URL], { env: NO_ENV_URL });
    expect(health.code).toBe(0);
    expect(health.stdout).toStartWith("FIBRPC OK - ");
    expect(health.stdout.split("\n").filter(Boolean)).toHaveLength(1);
    expect(health.stderr).toContain("AMQP_URL_FILE");
    for (const output of [call.stdout, call.stderr, health.stdout, health.stderr]) expect(output).not.toContain(SECRET);
  });
});

describe("a URL file that cannot serve is bad usage (2), naming the path, never its content", () => {
  test.each([
    ["missing", ["--url-file", "/nonexistent/amqp-url"], {}, "fibrpc: cannot read the URL file '/nonexistent/amqp-url' (--url-file): ENOENT\n"],
    ["a directory", [], { AMQP_URL_FILE: "/" }, "fibrpc: cannot read the URL file '/' (AMQP_URL_FILE): EISDIR\n"],
    ["both ways", ["--url", BROKER_URL, "--url-file", "/nonexistent"], {}, "fibrpc: give --url or --url-file, not both\n"],
    ["both variables", [], { AMQP_URL: BROKER_URL, AMQP_URL_FILE: "/nonexistent" }, "fibrpc: AMQP_URL and AMQP_URL_FILE are both set: set one of them\n"],
  ] as const)("%s", async (_label, args, env, stderr) => {
    const result = await runFibrpc(["call", "30", ...args], { env: { ...NO_ENV_URL, ...env } });
    expect(result).toMatchObject({ code: 2, stdout: "", stderr });
  });

  test("a file holding a bad URL: its password is not echoed", async () => {
    const bad = join(scratch, "bad-url");
    writeFileSync(bad, `u:${SECRET}@127.0.0.1:5672\n`);
    for (const command of [["call", "30"], ["serve"], ["bench"], ["health"]]) {
      const result = await runFibrpc([...command, "--url-file", bad], { env: NO_ENV_URL });
      expect(result.code).toBe(command[0] === "health" ? 3 : 2);
      expect(result.stdout + result.stderr).toContain("must start with amqp:// or amqps://");
      expect(result.stdout + result.stderr).not.toContain(SECRET);
    }
  });
});

describe("serve started with AMQP_URL_FILE", () => {
  test("has no password in its command line or its environment, as /proc (and ps) show them", async () => {
    const queue = uniqueQueue("url-file-serve");
    const serve = await ServeProcess.start(["--queue", queue], { ...NO_ENV_URL, AMQP_URL_FILE: secretFile });
    try {
      const { pid } = serve.proc;
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
      const environ = readFileSync(`/proc/${pid}/environ`, "utf8");
      expect(cmdline).toContain("serve --queue");
      expect(cmdline).not.toContain(SECRET);
      expect(environ).toContain(`AMQP_URL_FILE=${secretFile}`);
      expect(environ).not.toContain(SECRET);
      expect(serve.log).toContain(`${USER}:***@`);
      expect(serve.log).not.toContain(SECRET);
      expect(await runFibrpc(["call", "20", "--queue", queue])).toMatchObject({ code: 0, stdout: "6765\n" });
    } finally {
      await serve.stop();
      await deleteQueue(queue);
    }
  });
});
