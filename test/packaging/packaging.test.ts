/**
 * The ops files under packaging/, checked with what runs here: systemd-analyze for the unit, a
 * YAML parse plus the settings that matter for the Deployment, and the Dockerfile's instructions
 * (no Docker daemon is assumed; when there is one, build it: see docs/release.md).
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseDurationMs } from "../../src/duration.ts";
import { RELEASE_TARGETS, releaseFileName } from "../../scripts/release.ts";
import { FIBRPC } from "../support/fibrpc.ts";

const PACKAGING = resolve(import.meta.dir, "../../packaging");
const read = (name: string) => readFileSync(join(PACKAGING, name), "utf8");
const DEFAULT_DRAIN_MS = 10_000; // serve's --drain-timeout default

/** `Key=value` settings of a unit file (the last one wins, as in systemd). */
function unitSettings(text: string): Map<string, string> {
  const settings = new Map<string, string>();
  for (const line of text.split("\n")) {
    const match = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (match?.[1] !== undefined) settings.set(match[1], match[2] ?? "");
  }
  return settings;
}

function seconds(text: string | undefined): number {
  const ms = parseDurationMs(text ?? "");
  if (ms === undefined) throw new Error(`not a duration: '${text}'`);
  return ms / 1000;
}

describe("packaging/fibrpc.service", () => {
  const unit = read("fibrpc.service");
  const settings = unitSettings(unit);

  test.skipIf(Bun.which("systemd-analyze") === null)("systemd-analyze verify accepts it without a warning", () => {
    // verify insists that ExecStart exists: point it at the binary the tests built.
    const dir = mkdtempSync("/tmp/fibrpc-unit-");
    try {
      writeFileSync(join(dir, "fibrpc.service"), unit.replaceAll("/usr/local/bin/fibrpc", FIBRPC));
      const result = Bun.spawnSync(["systemd-analyze", "verify", join(dir, "fibrpc.service")]);
      expect(result.stderr.toString()).toBe("");
      expect(result.exitCode).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("hands the broker URL over as a credential file, read through AMQP_URL_FILE", () => {
    expect(settings.get("LoadCredential")).toBe("amqp-url:/etc/fibrpc/amqp-url");
    expect(unit).toContain("Environment=AMQP_URL_FILE=%d/amqp-url");
  });

  test("restarts on failure, stops with SIGTERM and waits longer than the drain timeout", () => {
    expect(settings.get("Restart")).toBe("on-failure");
    expect(settings.get("KillSignal")).toBe("SIGTERM");
    expect(settings.get("EnvironmentFile")).toBe("/etc/fibrpc/fibrpc.env");
    const drain = /FIBRPC_SERVE_DRAIN_TIMEOUT=(\S+)/.exec(settings.get("Environment") ?? "")?.[1];
    expect(seconds(settings.get("TimeoutStopSec"))).toBeGreaterThan(seconds(drain));
  });
});

describe("packaging/deployment.yaml", () => {
  const deployment = Bun.YAML.parse(read("deployment.yaml")) as {
    kind: string;
    spec: { template: { metadata: { annotations?: Record<string, string> }; spec: PodSpec } };
  };
  type Probe = { httpGet?: { path: string; port: string | number } };
  type Container = {
    args: string[];
    ports?: { name: string; containerPort: number }[];
    env: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
    readinessProbe: Probe;
    livenessProbe: Probe;
    volumeMounts: { name: string; mountPath: string }[];
  };
  type PodSpec = {
    terminationGracePeriodSeconds: number;
    securityContext: { runAsNonRoot: boolean; runAsUser: number };
    containers: Container[];
    volumes: { name: string; secret?: { secretName: string } }[];
  };
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0];

  test("is a Deployment whose broker URL is a Secret mounted as a file, read through AMQP_URL_FILE", () => {
    expect(deployment.kind).toBe("Deployment");
    expect(container?.env.find((entry) => entry.name === "AMQP_URL")).toBeUndefined();
    const file = container?.env.find((entry) => entry.name === "AMQP_URL_FILE")?.value ?? "";
    const mount = container?.volumeMounts.find((entry) => file.startsWith(`${entry.mountPath}/`));
    const volume = pod.volumes.find((entry) => entry.name === mount?.name);
    expect(volume?.secret?.secretName).toBe("fibrpc-broker");
    expect(file.slice((mount?.mountPath.length ?? 0) + 1)).toBe("amqp-url");
  });

  test("serve --http listens on the container's metrics port; the probes and the scrape annotations use it", () => {
    const httpAddress = container?.args[container.args.indexOf("--http") + 1] ?? "";
    const port = Number(/:(\d+)$/.exec(httpAddress)?.[1]);
    expect(container?.args.slice(0, 1)).toEqual(["serve"]);
    expect(container?.ports).toContainEqual({ name: "metrics", containerPort: port });
    expect(container?.readinessProbe.httpGet).toEqual({ path: "/readyz", port: "metrics" });
    expect(container?.livenessProbe.httpGet).toEqual({ path: "/livez", port: "metrics" });
    expect(deployment.spec.template.metadata.annotations).toEqual({
      "prometheus.io/scrape": "true",
      "prometheus.io/port": String(port),
      "prometheus.io/path": "/metrics",
    });
  });

  test("the grace period is above the drain timeout, and it runs as the image's non-root user", () => {
    const drain = container?.env.find((entry) => entry.name === "FIBRPC_SERVE_DRAIN_TIMEOUT")?.value;
    const drainMs = drain === undefined ? DEFAULT_DRAIN_MS : parseDurationMs(drain);
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(drainMs ?? Infinity);
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(read("Dockerfile")).toContain(`USER ${pod.securityContext.runAsUser}:`);
  });
});

describe("packaging/Dockerfile", () => {
  // Instructions with their continuation lines joined; comments dropped.
  const instructions = read("Dockerfile")
    .replace(/\\\n\s*/g, " ")
    .split("\n")
    .filter((line) => line.trim() !== "" && !line.startsWith("#"));
  const KNOWN = /^(FROM|RUN|COPY|USER|ENV|STOPSIGNAL|HEALTHCHECK|ENTRYPOINT|CMD|LABEL|ARG|WORKDIR|EXPOSE) /;

  test("every line is a known instruction; it starts FROM a slim base", () => {
    for (const line of instructions) expect(line).toMatch(KNOWN);
    expect(instructions[0]).toBe("FROM debian:bookworm-slim");
  });

  test("copies a release binary, runs as a non-root uid, checks health with fibrpc health", () => {
    const copy = instructions.find((line) => line.startsWith("COPY "));
    const source = copy?.split(" ").find((word) => word.startsWith("dist/release/"));
    expect(RELEASE_TARGETS.map((target) => `dist/release/${releaseFileName(target)}`)).toContain(source ?? "");
    const user = instructions.find((line) => line.startsWith("USER "));
    expect(user).toMatch(/^USER [1-9]\d*:[1-9]\d*$/);
    expect(instructions.find((line) => line.startsWith("HEALTHCHECK "))).toContain("fibrpc health");
    expect(instructions).toContain("STOPSIGNAL SIGTERM");
  });
});

describe("packaging/deployment.yaml: the Secret files", () => {
  const pod = (Bun.YAML.parse(read("deployment.yaml")) as { spec: { template: { spec: { securityContext: { runAsGroup?: number; fsGroup?: number } } } } }).spec
    .template.spec;

  // Secret volumes belong to root: without fsGroup a 0400 file is unreadable by uid 10001.
  test("are readable by the worker: fsGroup is its group (the kubelet then adds group read)", () => {
    expect(pod.securityContext.fsGroup).toBe(pod.securityContext.runAsGroup);
  });
});

/** Every variable `fibrpc serve` and `fibrpc health` read, as their --help names them (`env NAME`). */
function variablesFibrpcReads(): Set<string> {
  const help = ["serve", "health"].map((command) => Bun.spawnSync([FIBRPC, command, "--help"]).stdout.toString()).join("\n");
  return new Set([...help.matchAll(/env ([A-Z][A-Z0-9_]*)/g)].map((match) => match[1] ?? ""));
}

describe("the packaging files set only variables fibrpc reads (a renamed one would be silently ignored)", () => {
  const fibrpcReads = variablesFibrpcReads();

  test("fibrpc.service", () => {
    const names = [...read("fibrpc.service").matchAll(/^Environment=(.*)$/gm)].flatMap((match) =>
      (match[1] ?? "").split(/\s+/).map((pair) => pair.split("=")[0] ?? ""),
    );
    expect(names.length).toBeGreaterThan(0);
    expect(names.filter((name) => !fibrpcReads.has(name))).toEqual([]);
  });

  test("deployment.yaml", () => {
    const deployment = Bun.YAML.parse(read("deployment.yaml")) as { spec: { template: { spec: { containers: { env: { name: string }[] }[] } } } };
    const names = deployment.spec.template.spec.containers.flatMap((container) => container.env.map((entry) => entry.name));
    expect(names.filter((name) => !fibrpcReads.has(name))).toEqual([]);
  });

  test("Dockerfile", () => {
    const joined = read("Dockerfile").replace(/\\\n\s*/g, " "); // continuation lines joined
    const env = /^ENV (.*)$/m.exec(joined)?.[1] ?? "";
    const names = env
      .trim()
      .split(/\s+/)
      .map((pair) => pair.split("=")[0] ?? "");
    expect(names.length).toBeGreaterThan(0);
    expect(names.filter((name) => !fibrpcReads.has(name))).toEqual([]);
  });
});

describe.skipIf(Bun.which("systemd-analyze") === null)("packaging/fibrpc.service under systemd-analyze security", () => {
  test('rates its exposure 3.0 or lower ("OK"), as docs/release.md says', () => {
    const dir = mkdtempSync("/tmp/fibrpc-unit-");
    try {
      writeFileSync(join(dir, "fibrpc.service"), read("fibrpc.service").replaceAll("/usr/local/bin/fibrpc", FIBRPC));
      const result = Bun.spawnSync(["systemd-analyze", "security", "--offline=yes", join(dir, "fibrpc.service")]);
      const exposure = Number(/Overall exposure level for fibrpc\.service: ([\d.]+)/.exec(result.stdout.toString())?.[1]);
      expect(exposure).toBeLessThanOrEqual(3.0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe(".dockerignore", () => {
  // Without it, `docker build .` sends node_modules and ~1 GB of dist/release to the daemon.
  test("lets through exactly what the Dockerfile copies", () => {
    const rules = readFileSync(resolve(PACKAGING, "../.dockerignore"), "utf8")
      .split("\n")
      .filter((line) => line !== "" && !line.startsWith("#"));
    const copied = [...read("Dockerfile").matchAll(/^COPY (?:--\S+ )*(\S+) /gm)].map((match) => match[1]);
    expect(rules).toEqual(["*", ...copied.map((source) => `!${source}`)]);
  });
});
