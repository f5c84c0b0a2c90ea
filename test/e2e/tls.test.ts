/**
 * amqps:// against a real RabbitMQ TLS listener: a throwaway node (ports 42000-42999) with a CA
 * and server/client certificates made by openssl for this run.
 */
import "../support/preflight.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { makeTestCertificates, type TestCertificates } from "../support/certs.ts";
import { RabbitNode } from "../support/rabbit-node.ts";
import { runFibrpc, ServeProcess } from "../support/fibrpc.ts";
import { uniqueQueue } from "../support/broker.ts";

const EXIT_USAGE = 2;
const EXIT_UNREACHABLE = 5;
const EXTERNAL_PLUGIN = "rabbitmq_auth_mechanism_ssl";

/** Client-certificate login needs a plugin that Debian ships with rabbitmq-server but not every install has. */
const externalAvailable = Bun.spawnSync(["rabbitmq-plugins", "list", EXTERNAL_PLUGIN]).stdout.toString().includes(EXTERNAL_PLUGIN);
if (!externalAvailable) console.warn(`tls test: ${EXTERNAL_PLUGIN} is not installed; EXTERNAL (client certificate) login is not tested`);

describe("amqps:// with a private CA", () => {
  let certs: TestCertificates;
  let node: RabbitNode;
  let serve: ServeProcess;
  const queue = uniqueQueue("tls");

  beforeAll(async () => {
    certs = makeTestCertificates();
    node = await RabbitNode.start({
      label: "tls",
      portRange: [42_000, 42_999],
      // verify_peer asks for a client certificate without requiring one: password logins still work.
      tls: { caPem: certs.caPem, certPem: certs.serverCertPem, keyPem: certs.serverKeyPem, verifyPeer: true, failIfNoPeerCert: false },
      plugins: externalAvailable ? [EXTERNAL_PLUGIN] : [],
      extraConfig: externalAvailable ? ["auth_mechanisms.1 = PLAIN", "auth_mechanisms.2 = EXTERNAL", "ssl_cert_login_from = common_name"] : [],
    });
    serve = await ServeProcess.start(["--url", node.tlsUrl, "--ca", certs.caFile, "--queue", queue]);
  }, 60_000);

  afterAll(async () => {
    await serve?.stop();
    await node?.destroy();
    if (certs) rmSync(certs.dir, { recursive: true, force: true });
  });

  test("serve and call talk over TLS when the broker's CA is given (--ca, and FIBRPC_CA)", async () => {
    const byFlag = await runFibrpc(["call", "30", "--url", node.tlsUrl, "--ca", certs.caFile, "--queue", queue]);
    expect(byFlag).toMatchObject({ code: 0, stdout: "832040\n", stderr: "" });
    const byEnv = await runFibrpc(["call", "31", "--queue", queue], { env: { AMQP_URL: node.tlsUrl, FIBRPC_CA: certs.caFile } });
    expect(byEnv).toMatchObject({ code: 0, stdout: "1346269\n", stderr: "" });
    const flagWins = await runFibrpc(["call", "32", "--ca", certs.caFile, "--queue", queue], {
      env: { AMQP_URL: node.tlsUrl, FIBRPC_CA: certs.otherCaFile },
    });
    expect(flagWins).toMatchObject({ code: 0, stdout: "2178309\n", stderr: "" });
  });

  test("a CA that did not sign the broker's certificate: 'certificate verify failed', exit 5, password hidden", async () => {
    const result = await runFibrpc(["call", "30", "--url", node.tlsUrl, "--ca", certs.otherCaFile, "--queue", queue]);
    expect(result.code).toBe(EXIT_UNREACHABLE);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("TLS: certificate verify failed");
    expect(result.stderr).not.toContain(":guest@");
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
  });

  test("serve with a CA that did not sign the broker's certificate stops at once with exit 5, not retrying forever", async () => {
    const result = await runFibrpc(["serve", "--url", node.tlsUrl, "--ca", certs.otherCaFile, "--queue", queue]);
    expect(result.code).toBe(EXIT_UNREACHABLE);
    expect(result.stderr).toContain("TLS: certificate verify failed");
  });

  test("without --ca the system's CAs are used, and verification is on by default", async () => {
    const result = await runFibrpc(["call", "30", "--url", node.tlsUrl, "--queue", queue]);
    expect(result.code).toBe(EXIT_UNREACHABLE);
    expect(result.stderr).toContain("TLS: certificate verify failed");
  });

  test("--insecure skips verification and says so on stderr, every run", async () => {
    const byFlag = await runFibrpc(["call", "30", "--url", node.tlsUrl, "--insecure", "--queue", queue]);
    expect(byFlag.code).toBe(0);
    expect(byFlag.stdout).toBe("832040\n");
    expect(byFlag.stderr).toMatch(/WARNING: --insecure: the broker's TLS certificate is NOT verified/);
    const byEnv = await runFibrpc(["call", "30", "--url", node.tlsUrl, "--queue", queue], { env: { FIBRPC_INSECURE: "1" } });
    expect(byEnv.code).toBe(0);
    expect(byEnv.stderr).toMatch(/WARNING: --insecure/);
  });

  test("serve --insecure --log-format json warns as a JSON log line, like every other line", async () => {
    const insecureServe = await ServeProcess.start(["--url", node.tlsUrl, "--insecure", "--queue", uniqueQueue("tls-json"), "--log-format", "json"]);
    await insecureServe.stop();
    const lines = insecureServe.log
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line) as { level: string; msg: string });
    expect(lines.find((line) => line.msg.includes("--insecure"))?.level).toBe("warn");
  });

  test.skipIf(!externalAvailable)("a client certificate logs in by itself (EXTERNAL) when the URL has no user", async () => {
    // A vhost only the certificate's user may use: had fibrpc fallen back to guest/guest, it would be refused.
    await node.rabbitmqctl("add_vhost", "by-cert");
    await node.rabbitmqctl("add_user", certs.clientName, crypto.randomUUID());
    await node.rabbitmqctl("set_permissions", "-p", "by-cert", certs.clientName, ".*", ".*", ".*");
    const url = `amqps://127.0.0.1:${node.tlsPort}/by-cert`;
    const identity = ["--url", url, "--ca", certs.caFile, "--cert", certs.clientCertFile, "--key", certs.clientKeyFile];
    const certServe = await ServeProcess.start([...identity, "--queue", queue]);
    try {
      const result = await runFibrpc(["call", "20", ...identity, "--queue", queue]);
      expect(result).toMatchObject({ code: 0, stdout: "6765\n", stderr: "" });
      // The control: the same URL without the certificate falls back to guest, who may not use this vhost.
      const withoutCert = await runFibrpc(["call", "20", "--url", url, "--ca", certs.caFile, "--queue", queue]);
      expect(withoutCert.code).toBe(6);
    } finally {
      expect(await certServe.stop()).toBe(0);
    }
  });
});

describe("TLS options that cannot work are usage errors (exit 2), before connecting", () => {
  test("--ca with an amqp:// URL", async () => {
    const result = await runFibrpc(["call", "1", "--url", "amqp://127.0.0.1:1", "--ca", "/dev/null"]);
    expect(result.code).toBe(EXIT_USAGE);
    expect(result.stderr).toContain("need an amqps:// URL");
  });

  test("--cert without --key", async () => {
    const result = await runFibrpc(["call", "1", "--url", "amqps://127.0.0.1:1", "--cert", "/dev/null"]);
    expect(result.code).toBe(EXIT_USAGE);
    expect(result.stderr).toContain("--cert and --key go together");
  });

  test("a CA file that cannot be read", async () => {
    const result = await runFibrpc(["call", "1", "--url", "amqps://127.0.0.1:1", "--ca", "/nonexistent/ca.pem"]);
    expect(result.code).toBe(EXIT_USAGE);
    expect(result.stderr).toContain("cannot read --ca file '/nonexistent/ca.pem': ENOENT");
  });
});
