/**
 * A throwaway RabbitMQ node of a test's own, on its own ports, for tests that stop, restart or
 * reconfigure a broker (outages, TLS) without touching the shared one on 5672. Needs the Debian
 * rabbitmq-server package and root (the node runs as the rabbitmq user in a folder it owns).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { CtlTarget } from "./rabbitmqctl.ts";
import { beamAlive, NODE_DIR_PREFIX, NODES_DIR, OWNER_FILE, pidFileIn, reapOrphans } from "./rabbit-process.ts";

export interface RabbitNodeOptions {
  /** Short name used in the node name and temp folder. */
  label: string;
  /** Extra rabbitmq.conf lines (e.g. a TLS listener); `{dir}` is replaced by the node's folder. */
  extraConfig?: string[];
  /** Plugins to enable, e.g. ["rabbitmq_auth_mechanism_ssl"]. */
  plugins?: string[];
  /** Files to place in the node's folder before it starts (certificates), readable by rabbitmq. */
  files?: Record<string, string>;
  /** Ports to pick from, [first, last]; each helper's tests use a range of their own. Default: anywhere in 40000-57999. */
  portRange?: [number, number];
  /** An amqps listener on `tlsPort` with these PEMs; `verifyPeer` asks clients for a certificate. */
  tls?: TlsListener;
}

export interface TlsListener {
  caPem: string;
  certPem: string;
  keyPem: string;
  /** Ask for (and check) a client certificate; `failIfNoPeerCert` refuses clients without one. */
  verifyPeer?: boolean;
  failIfNoPeerCert?: boolean;
}

/** rabbitmq.conf lines for an amqps listener whose PEM files are in the node's folder. */
function tlsConfig(tls: TlsListener): string[] {
  return [
    "listeners.ssl.default = 127.0.0.1:{tlsPort}",
    "ssl_options.cacertfile = {dir}/tls-ca.pem",
    "ssl_options.certfile = {dir}/tls-server.pem",
    "ssl_options.keyfile = {dir}/tls-server.key",
    `ssl_options.verify = ${tls.verifyPeer ? "verify_peer" : "verify_none"}`,
    `ssl_options.fail_if_no_peer_cert = ${tls.failIfNoPeerCert ? "true" : "false"}`,
  ];
}

/** A CLI call that hangs (a node frozen mid-call) fails the test after this long instead of hanging it. */
const CLI_TIMEOUT_MS = 60_000;

async function run(command: string[], env?: Record<string, string>): Promise<{ code: number; output: string }> {
  const proc = Bun.spawn(command, { env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe", stdin: "ignore", timeout: CLI_TIMEOUT_MS });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, output: out + err };
}

async function portIsFree(port: number): Promise<boolean> {
  try {
    const server = Bun.listen({ hostname: "127.0.0.1", port, socket: { data() {} } });
    server.stop(true);
    return true;
  } catch {
    return false;
  }
}

/** Two free consecutive ports (AMQP, then Erlang distribution), plus a spare for a TLS listener. */
async function freePorts([low, high]: [number, number] = [40_000, 57_999]): Promise<[number, number, number]> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = low + Math.floor(Math.random() * Math.floor((high - low - 2) / 3)) * 3;
    if ((await portIsFree(base)) && (await portIsFree(base + 1)) && (await portIsFree(base + 2))) return [base, base + 1, base + 2];
  }
  throw new Error("no free ports for a throwaway RabbitMQ node");
}

async function tcpOpen(port: number): Promise<boolean> {
  try {
    const socket = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
    socket.end();
    return true;
  } catch {
    return false;
  }
}

export class RabbitNode {
  private constructor(
    readonly nodeName: string,
    readonly port: number,
    /** A spare port the caller may use in extraConfig (as `{tlsPort}`), e.g. for an amqps listener. */
    readonly tlsPort: number,
    readonly dir: string,
    private readonly env: Record<string, string>,
  ) {}

  /** amqp://guest:guest@127.0.0.1:PORT: guest may log in from loopback on this node. */
  get url(): string {
    return `amqp://guest:guest@127.0.0.1:${this.port}`;
  }

  /** For the helpers in rabbitmqctl.ts (queueTotals, queueSettled) to ask this node. */
  get ctlTarget(): CtlTarget {
    return { nodeName: this.nodeName, env: this.env };
  }

  /** amqps://guest:guest@127.0.0.1:TLSPORT, for a node started with `tls`. */
  get tlsUrl(): string {
    return `amqps://guest:guest@127.0.0.1:${this.tlsPort}`;
  }

  /** Prepares a node's folder and starts it; waits until it listens. */
  static async start(options: RabbitNodeOptions): Promise<RabbitNode> {
    const node = await RabbitNode.prepare(options);
    try {
      await node.boot(30_000, options.tls ? node.tlsPort : node.port);
    } catch (error) {
      await node.destroy();
      throw error;
    }
    return node;
  }

  /** Writes the node's folder (config, plugins, files) on free ports, without starting it. */
  static async prepare(options: RabbitNodeOptions): Promise<RabbitNode> {
    reapOrphans();
    const [port, distPort, tlsPort] = await freePorts(options.portRange);
    const dir = mkdtempSync(join(NODES_DIR, `${NODE_DIR_PREFIX}${options.label}-`));
    writeFileSync(join(dir, OWNER_FILE), String(process.pid));
    const nodeName = `fibrpc-${options.label}-${port}@localhost`;
    mkdirSync(join(dir, "mnesia"));
    mkdirSync(join(dir, "log"));
    const substitute = (line: string) => line.replaceAll("{dir}", dir).replaceAll("{tlsPort}", String(tlsPort));
    const extraConfig = [...(options.tls ? tlsConfig(options.tls) : []), ...(options.extraConfig ?? [])];
    const config = [`listeners.tcp.1 = 127.0.0.1:${port}`, "loopback_users = none", ...extraConfig.map(substitute)];
    writeFileSync(join(dir, "rabbitmq.conf"), `${config.join("\n")}\n`);
    writeFileSync(join(dir, "enabled_plugins"), `[${(options.plugins ?? []).join(",")}].\n`);
    const tlsFiles = options.tls ? { "tls-ca.pem": options.tls.caPem, "tls-server.pem": options.tls.certPem, "tls-server.key": options.tls.keyPem } : {};
    for (const [name, content] of Object.entries({ ...tlsFiles, ...options.files })) writeFileSync(join(dir, name), content);
    await run(["chown", "-R", "rabbitmq:rabbitmq", dir]);
    const env = {
      RABBITMQ_CONFIG_FILE: join(dir, "rabbitmq.conf"),
      RABBITMQ_NODENAME: nodeName,
      RABBITMQ_DIST_PORT: String(distPort),
      RABBITMQ_MNESIA_BASE: join(dir, "mnesia"),
      RABBITMQ_LOG_BASE: join(dir, "log"),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, "enabled_plugins"),
      // The Erlang VM writes its OS pid here: what kill() signals.
      RABBITMQ_PID_FILE: pidFileIn(dir),
    };
    return new RabbitNode(nodeName, port, tlsPort, dir, env);
  }

  /**
   * Starts the Erlang VM (first time, or again after kill()) and waits until `port` accepts
   * connections, i.e. the broker has booted (listeners open last). Its data folder is kept, so a
   * node that was in a cluster comes back into it.
   */
  async boot(timeoutMs = 30_000, port = this.port): Promise<void> {
    const started = await run(["rabbitmq-server", "-detached"], this.env);
    if (started.code !== 0) throw new Error(`rabbitmq-server -detached failed: ${started.output}`);
    if (!(await this.waitUntilListening(timeoutMs, port))) {
      throw new Error(`throwaway RabbitMQ node ${this.nodeName} did not listen on ${port}; see ${this.dir}/log`);
    }
  }

  async waitUntilListening(timeoutMs = 15_000, port = this.port): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await tcpOpen(port)) return true;
      await Bun.sleep(100);
    }
    return false;
  }

  /** The last lines of the node's own log, for error messages (its folder goes with destroy()). */
  logTail(lines = 25): string {
    try {
      const logDir = join(this.dir, "log");
      const text = readdirSync(logDir)
        .filter((name) => name.endsWith(".log"))
        .map((name) => readFileSync(join(logDir, name), "utf8"))
        .join("\n");
      return text.split("\n").slice(-lines).join("\n");
    } catch {
      return "(no log)";
    }
  }

  /** Runs a RabbitMQ CLI tool (rabbitmqctl, rabbitmq-queues, …) against this node; returns its output. */
  async run(tool: string, ...args: string[]): Promise<string> {
    const result = await run([tool, "-n", this.nodeName, ...args], this.env);
    if (result.code !== 0) throw new Error(`${tool} ${args.join(" ")} failed: ${result.output}`);
    return result.output;
  }

  private async ctl(...args: string[]): Promise<string> {
    return this.run("rabbitmqctl", ...args);
  }

  private get pidFile(): string {
    return pidFileIn(this.dir);
  }

  /** The OS pid of the node's Erlang VM, from its pid file; undefined when it is not running. */
  osPid(): number | undefined {
    let text: string;
    try {
      text = readFileSync(this.pidFile, "utf8");
    } catch {
      return undefined;
    }
    const pid = Number.parseInt(text.trim(), 10);
    return Number.isInteger(pid) && pid > 0 && beamAlive(pid) ? pid : undefined;
  }

  /**
   * kill -9 of the Erlang VM, as a crash or power loss would do it: no goodbye to peers or clients.
   * Returns once the process is gone, with whether there was one to kill.
   */
  async kill(): Promise<boolean> {
    const pid = this.osPid();
    // The pid file outlives a killed VM: removing it keeps a later kill() off a recycled pid.
    rmSync(this.pidFile, { force: true });
    if (pid === undefined) return false;
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      return false;
    }
    const deadline = Date.now() + 10_000;
    while (beamAlive(pid) && Date.now() < deadline) await Bun.sleep(20);
    return true;
  }

  /** Stops the broker application (clients see 320 CONNECTION_FORCED); the Erlang node stays up. */
  async stopApp(): Promise<void> {
    await this.ctl("stop_app");
  }

  async startApp(): Promise<void> {
    await this.ctl("start_app");
    await this.waitUntilListening();
  }

  /** Runs any rabbitmqctl command against this node (add_user, set_vm_memory_high_watermark, …); returns its output. */
  async rabbitmqctl(...args: string[]): Promise<string> {
    return this.ctl(...args);
  }

  /**
   * Stops the node and removes its folder. Safe to call twice. `hard` kills the VM instead of a
   * graceful stop: quicker, and the data is thrown away anyway.
   */
  async destroy(options: { hard?: boolean } = {}): Promise<void> {
    if (!existsSync(this.dir)) return;
    const killed = options.hard === true && (await this.kill());
    // Without a pid (not written yet, or gone), ask the node to stop in case a VM is still there.
    if (!killed) await run(["rabbitmqctl", "-n", this.nodeName, "stop"], this.env).catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
