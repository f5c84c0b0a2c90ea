/**
 * scripts/local-broker.sh, the set-up `npm start` and `npm test` share, down each of its paths.
 * The shared broker on 5672 is never stopped: the paths where no broker listens are tried on a
 * throwaway port (RABBITMQ_NODE_PORT and RabbitMQ's other RABBITMQ_* variables, which the script
 * and rabbitmq-server both honour), with the real rabbitmq-server starting a throwaway node there.
 * "Not installed" is a PATH without /usr/sbin (where Debian puts rabbitmq-server), and, for the
 * install path, a stand-in apt-get that "installs" it by linking the real one into that PATH.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import amqp from "amqplib";
import { BROKER_URL, uniqueQueue } from "../support/broker.ts";
import { FIBRPC, runFibrpc, ServeProcess } from "../support/fibrpc.ts";

const SCRIPT = resolve(import.meta.dir, "../../scripts/local-broker.sh");
const PATH_WITHOUT_SBIN = "/usr/local/bin:/usr/bin:/bin";
const rabbitInstalled = Bun.which("rabbitmq-server") !== null;
const isRoot = process.getuid?.() === 0;

const scratch = mkdtempSync("/tmp/fibrpc-local-broker-");
chmodSync(scratch, 0o755); // the throwaway nodes' folders inside it belong to the rabbitmq user
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface ScriptRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the script with exactly `env` (nothing inherited), optionally as the unprivileged user nobody. */
async function runScript(args: string[], env: Record<string, string>, options: { asNobody?: boolean } = {}): Promise<ScriptRun> {
  const argv = options.asNobody ? ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "bash", SCRIPT, ...args] : ["bash", SCRIPT, ...args];
  const proc = Bun.spawn(argv, { env, stdin: "ignore", stdout: "pipe", stderr: "pipe", cwd: scratch });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

async function portIsFree(port: number): Promise<boolean> {
  try {
    Bun.listen({ hostname: "127.0.0.1", port, socket: { data() {} } }).stop(true);
    return true;
  } catch {
    return false;
  }
}

/** Two free consecutive ports in this file's own range (AMQP, then Erlang distribution). */
async function freePorts(): Promise<[number, number]> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 58_100 + 2 * Math.floor(Math.random() * 400);
    if ((await portIsFree(port)) && (await portIsFree(port + 1))) return [port, port + 1];
  }
  throw new Error("no two free ports in 58100-58899");
}

/**
 * RabbitMQ's variables for a node of the test's own: its port, name, folders, and a config file of
 * its own (Debian's /etc/rabbitmq/rabbitmq.conf names 5672). Nothing runs until the script starts it.
 */
class ThrowawayNode {
  private constructor(
    readonly port: number,
    readonly env: Record<string, string>,
    private readonly dir: string,
  ) {}

  static async prepare(label: string): Promise<ThrowawayNode> {
    const [port, distPort] = await freePorts();
    const dir = mkdtempSync(join(scratch, `${label}-`));
    for (const sub of ["mnesia", "log"]) mkdirSync(join(dir, sub));
    writeFileSync(join(dir, "rabbitmq.conf"), "# throwaway node of test/scripts/local-broker.test.ts\n");
    writeFileSync(join(dir, "enabled_plugins"), "[].\n");
    Bun.spawnSync(["chown", "-R", "rabbitmq:rabbitmq", dir]);
    return new ThrowawayNode(
      port,
      {
        RABBITMQ_NODE_PORT: String(port),
        RABBITMQ_NODE_IP_ADDRESS: "127.0.0.1",
        RABBITMQ_DIST_PORT: String(distPort),
        RABBITMQ_NODENAME: `fibrpc-local-broker-${port}@localhost`,
        RABBITMQ_MNESIA_BASE: join(dir, "mnesia"),
        RABBITMQ_LOG_BASE: join(dir, "log"),
        RABBITMQ_CONFIG_FILE: join(dir, "rabbitmq.conf"),
        RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, "enabled_plugins"),
      },
      dir,
    );
  }

  get url(): string {
    return `amqp://guest:guest@127.0.0.1:${this.port}`;
  }

  /** Stops the node if the script started one; safe when it did not. */
  async stop(): Promise<void> {
    const proc = Bun.spawn(["rabbitmqctl", "-n", this.env.RABBITMQ_NODENAME ?? "", "stop"], {
      env: { ...process.env, ...this.env },
      stdout: "ignore",
      stderr: "ignore",
    });
    await proc.exited;
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The environment a user's shell would have, minus any broker address. */
function userEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin", HOME: scratch, LANG: "C.UTF-8", ...extra };
}

describe("scripts/local-broker.sh", () => {
  test("with AMQP_URL set it touches nothing and runs the command with that URL", async () => {
    const result = await runScript(["sh", "-c", 'echo "$AMQP_URL"'], userEnv({ AMQP_URL: "amqp://app:secret@broker.example:5672", RABBITMQ_NODE_PORT: "1" }));
    expect(result).toEqual({ code: 0, stdout: "amqp://app:secret@broker.example:5672\n", stderr: "" });
  });

  // Only where the tests' broker is the default one, the one this script looks for.
  const sharedBrokerIsLocal = /^amqp:\/\/[^@]*@(127\.0\.0\.1|localhost)(:5672)?\/?$/.test(BROKER_URL);
  test.skipIf(!sharedBrokerIsLocal)("with a broker already listening (the shared one) it says nothing and runs the command", async () => {
    const result = await runScript(["sh", "-c", 'echo "ran, AMQP_URL=${AMQP_URL:-unset}"'], userEnv());
    expect(result).toEqual({ code: 0, stdout: "ran, AMQP_URL=unset\n", stderr: "" });
  });

  test("not installed, and not allowed to install: one line with the command that installs it, exit 1", async () => {
    const [port] = await freePorts();
    const result = await runScript(
      ["sh", "-c", "echo should not run"],
      { PATH: PATH_WITHOUT_SBIN, HOME: "/tmp", RABBITMQ_NODE_PORT: String(port) },
      { asNobody: true },
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(
      `local-broker: no RabbitMQ on 127.0.0.1:${port} and none installed; install it with 'sudo apt-get install rabbitmq-server' (or point AMQP_URL at a broker), then run this again\n`,
    );
  });

  test.skipIf(!rabbitInstalled)("installed but down, and not root: one line with the command that starts it, exit 1", async () => {
    const [port] = await freePorts();
    const result = await runScript(
      ["sh", "-c", "echo should not run"],
      { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", HOME: "/tmp", RABBITMQ_NODE_PORT: String(port) },
      { asNobody: true },
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(
      new RegExp(
        `^local-broker: RabbitMQ is installed but not running on 127\\.0\\.0\\.1:${port}; start it with 'sudo (systemctl start rabbitmq-server|rabbitmq-server -detached)', then run this again\\n$`,
      ),
    );
  });

  test.skipIf(!rabbitInstalled || !isRoot)(
    "installed but down, as root: starts it, then runs `fibrpc serve` on it (npm start's path)",
    async () => {
      const node = await ThrowawayNode.prepare("down");
      // `npm start` runs `bash scripts/local-broker.sh dist/fibrpc serve`; this launcher does the same.
      const launcher = join(scratch, "npm-start");
      writeFileSync(launcher, `#!/bin/sh\nexec bash ${SCRIPT} ${FIBRPC} "$@"\n`);
      chmodSync(launcher, 0o755);
      const queue = uniqueQueue("local-broker");
      let serve: ServeProcess | undefined;
      try {
        serve = await ServeProcess.start(["--queue", queue], { ...node.env, AMQP_URL: undefined }, { binary: launcher, startTimeoutMs: 90_000 });
        expect(serve.log).toContain(`local-broker: starting RabbitMQ on 127.0.0.1:${node.port} (rabbitmq-server -detached)\n`);
        expect(serve.log).toContain(`connected to amqp://guest:***@127.0.0.1:${node.port}`);
        const answer = await runFibrpc(["call", "30", "--queue", queue], { env: { AMQP_URL: node.url } });
        expect(answer).toMatchObject({ code: 0, stdout: "832040\n" });
        expect(await serve.stop()).toBe(0);
      } finally {
        await serve?.stop("SIGKILL");
        await node.stop();
      }
    },
    120_000,
  );

  test.skipIf(!rabbitInstalled || !isRoot)(
    "not installed, as root with apt-get: installs rabbitmq-server, starts it, runs the command",
    async () => {
      const node = await ThrowawayNode.prepare("install");
      // A stand-in apt-get that logs its calls and "installs" by linking the real programs into the PATH.
      const fakeBin = mkdtempSync(join(scratch, "bin-"));
      const aptLog = join(fakeBin, "apt-get.log");
      writeFileSync(
        join(fakeBin, "apt-get"),
        [
          "#!/bin/sh",
          `echo "apt-get $*" >> ${aptLog}`,
          'case " $* " in *" install "*" rabbitmq-server "*)',
          `  ln -s /usr/sbin/rabbitmq-server ${fakeBin}/rabbitmq-server; ln -s /usr/sbin/rabbitmqctl ${fakeBin}/rabbitmqctl;;`,
          "esac",
        ].join("\n"),
      );
      chmodSync(join(fakeBin, "apt-get"), 0o755);
      try {
        const env = { PATH: `${fakeBin}:${PATH_WITHOUT_SBIN}`, HOME: scratch, ...node.env };
        const result = await runScript(["sh", "-c", 'echo "AMQP_URL=$AMQP_URL"'], env);
        expect(result.stdout).toBe(`AMQP_URL=${node.url}\n`);
        expect(result.stderr).toBe(
          "local-broker: installing rabbitmq-server (apt-get install)\n" +
            `local-broker: starting RabbitMQ on 127.0.0.1:${node.port} (rabbitmq-server -detached)\n`,
        );
        expect(result.code).toBe(0);
        expect(readFileSync(aptLog, "utf8")).toBe("apt-get update -q\napt-get install -y -q rabbitmq-server\n");
        const connection = await amqp.connect(node.url);
        await connection.close();
      } finally {
        await node.stop();
      }
    },
    120_000,
  );
});
