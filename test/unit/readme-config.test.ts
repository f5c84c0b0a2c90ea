import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { ArgsDef } from "citty";
import { configTable, readmeTable } from "../../scripts/config-table.ts";
import benchCommand from "../../src/commands/bench.ts";
import callCommand from "../../src/commands/call.ts";
import healthCommand from "../../src/commands/health.ts";
import serveCommand from "../../src/commands/serve.ts";

const ROOT = resolve(import.meta.dir, "../..");

describe("the README's configuration table", () => {
  test("is the one the flag definitions generate (bun scripts/config-table.ts --write to update it)", () => {
    expect(readmeTable()).toBe(configTable());
  });
});

describe("documentation and packaging name only variables fibrpc reads", () => {
  const current = new Set<string>(["FIBRPC_DEBUG", "FIBRPC_VERSION", "FIBRPC_COMMIT"]);
  const legacy = new Set<string>();
  for (const command of [serveCommand, callCommand, healthCommand, benchCommand]) {
    for (const def of Object.values(command.args as ArgsDef)) {
      if ("env" in def && typeof def.env === "string") current.add(def.env);
      if ("legacyEnv" in def && typeof def.legacyEnv === "string") legacy.add(def.legacyEnv);
    }
  }
  const files = [
    "README.md",
    ...readdirSync(join(ROOT, "docs")).map((name) => `docs/${name}`),
    ...readdirSync(join(ROOT, "packaging")).map((name) => `packaging/${name}`),
  ];

  test.each(files)("%s", (file) => {
    const text = readFileSync(join(ROOT, file), "utf8");
    // Old names may be quoted as such ("(was `FIBRPC_TIMEOUT`)") in the README only; packaging uses the current ones.
    // docs/release.md's install one-liner has settings of its own (a mirror, where to install, which build).
    const installer = file === "docs/release.md" ? ["FIBRPC_RELEASES", "FIBRPC_BIN_DIR", "FIBRPC_PLATFORM"] : [];
    const allowed = new Set([...current, ...(file === "README.md" ? legacy : []), ...installer]);
    const named = [...new Set(text.match(/\bFIBRPC_[A-Z0-9_]*[A-Z0-9]\b|\bAMQP_URL\w*\b/g) ?? [])];
    for (const name of named) expect({ file, name, known: allowed.has(name) }).toEqual({ file, name, known: true });
  });
});

describe("variables users were told about stay read", () => {
  test("FIBRPC_HTTP and FIBRPC_WINDOW (the names issues #12 and #15 gave) are the old names of serve --http and call --window", () => {
    const legacyOf = (args: unknown, flag: string) => {
      const def: unknown = (args as Record<string, unknown>)[flag];
      return typeof def === "object" && def !== null && "legacyEnv" in def ? def.legacyEnv : undefined;
    };
    expect(legacyOf(serveCommand.args, "http")).toBe("FIBRPC_HTTP");
    expect(legacyOf(callCommand.args, "window")).toBe("FIBRPC_WINDOW");
  });
});
