/**
 * A throwaway private CA with a server certificate (for 127.0.0.1 and localhost) and a client
 * certificate, made by openssl at test time, plus an unrelated CA that must not verify the server.
 * ECDSA P-256 keys: quick to generate, understood by both Erlang/OTP and Bun.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface TestCertificates {
  dir: string;
  /** PEM paths for fibrpc's --ca/--cert/--key. */
  caFile: string;
  otherCaFile: string;
  clientCertFile: string;
  clientKeyFile: string;
  /** The client certificate's common name: the RabbitMQ user EXTERNAL authentication logs in as. */
  clientName: string;
  /** PEM contents for the broker. */
  caPem: string;
  serverCertPem: string;
  serverKeyPem: string;
}

function openssl(dir: string, ...args: string[]): void {
  const result = Bun.spawnSync(["openssl", ...args], { cwd: dir, stdout: "ignore", stderr: "pipe" });
  if (result.exitCode !== 0) throw new Error(`openssl ${args.join(" ")} failed: ${result.stderr.toString()}`);
}

function selfSignedCa(dir: string, name: string): void {
  openssl(
    dir,
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-days",
    "2",
    "-subj",
    `/CN=${name}`,
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.pem`,
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  );
}

function signedLeaf(dir: string, name: string, extensions: string): void {
  openssl(
    dir,
    "req",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-subj",
    `/CN=${name}`,
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.csr`,
  );
  writeFileSync(join(dir, `${name}.ext`), extensions);
  openssl(
    dir,
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-days",
    "2",
    "-out",
    `${name}.pem`,
    "-extfile",
    `${name}.ext`,
  );
}

export function makeTestCertificates(): TestCertificates {
  const dir = mkdtempSync("/tmp/fibrpc-certs-");
  selfSignedCa(dir, "ca");
  selfSignedCa(dir, "other-ca");
  signedLeaf(dir, "server", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
  const clientName = "fibrpc-client";
  signedLeaf(dir, clientName, "extendedKeyUsage=clientAuth\n");
  const read = (name: string) => readFileSync(join(dir, name), "utf8");
  return {
    dir,
    caFile: join(dir, "ca.pem"),
    otherCaFile: join(dir, "other-ca.pem"),
    clientCertFile: join(dir, `${clientName}.pem`),
    clientKeyFile: join(dir, `${clientName}.key`),
    clientName,
    caPem: read("ca.pem"),
    serverCertPem: read("server.pem"),
    serverKeyPem: read("server.key"),
  };
}
