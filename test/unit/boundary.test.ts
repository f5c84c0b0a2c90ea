import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { CertificateRejectedError } from "../../src/errors.ts";
import { classifyBrokerError } from "../../src/rpc/broker.ts";
import { withHint } from "../../src/cli/hints.ts";

const RPC = join(import.meta.dir, "../../src/rpc");

describe("src/rpc is a library: it knows no command line", () => {
  const files = readdirSync(RPC).filter((name) => name.endsWith(".ts"));

  test.each(files)("%s imports nothing of the CLI", (name) => {
    const imports = [...readFileSync(join(RPC, name), "utf8").matchAll(/from "([^"]+)"/g)].map((match) => match[1]);
    for (const path of imports)
      expect({ path, forbidden: /(^|\/)(cli|commands)(\/|\.ts$)|config\.ts$|^citty$|^consola/.test(path ?? "") }).toEqual({ path, forbidden: false });
  });

  test("its messages name no flag: a hint does, in the command layer's words", () => {
    const error = classifyBrokerError(Object.assign(new Error("self signed certificate"), { code: "DEPTH_ZERO_SELF_SIGNED_CERT" }), "amqps://u:pw@h:5671");
    expect(error).toBeInstanceOf(CertificateRejectedError);
    expect(error.message).not.toMatch(/--\w/);
    expect(error.hint).toBe("trust-broker-ca");
    expect(withHint(error)).toEndWith("; trust the broker's CA with --ca (FIBRPC_CA), or skip the check with --insecure");
  });
});
