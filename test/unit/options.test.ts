import { describe, expect, test } from "bun:test";
import type { ArgsDef } from "citty";
import benchCommand from "../../src/commands/bench.ts";
import callCommand from "../../src/commands/call.ts";
import healthCommand from "../../src/commands/health.ts";
import serveCommand from "../../src/commands/serve.ts";
import { flag, option, readFlag, readOption } from "../../src/cli/options.ts";

/** The named flags of a command with the environment variable each declares (positionals excluded). */
function namedFlags(args: ArgsDef): [string, { env?: unknown; description?: string }][] {
  return Object.entries(args).filter(([, def]) => def.type !== "positional");
}

describe("every flag of every command can be set from the environment", () => {
  const commands = [
    ["serve", serveCommand],
    ["call", callCommand],
    ["health", healthCommand],
    ["bench", benchCommand],
  ] as const;
  for (const [name, command] of commands) {
    test(`${name}: each flag has its own env variable, named in its --help description`, () => {
      const args = command.args as ArgsDef;
      const flags = namedFlags(args);
      expect(flags.length).toBeGreaterThan(0);
      const envNames = new Set<string>();
      for (const [flagName, def] of flags) {
        expect({ flag: flagName, env: typeof def.env }).toEqual({ flag: flagName, env: "string" });
        expect(def.description).toContain(`env ${String(def.env)}`);
        envNames.add(String(def.env));
      }
      expect(envNames.size).toBe(flags.length);
    });
  }
});

describe("flag > environment > default", () => {
  const timeout = option({ description: "t", env: "X_TIMEOUT", fallback: "10s" });
  const json = flag({ description: "j", env: "X_JSON" });

  test("options", () => {
    expect(readOption("timeout", "2s", timeout, { X_TIMEOUT: "5s" })).toBe("2s");
    expect(readOption("timeout", undefined, timeout, { X_TIMEOUT: "5s" })).toBe("5s");
    expect(readOption("timeout", undefined, timeout, {})).toBe("10s");
    expect(readOption("timeout", "", timeout, { X_TIMEOUT: "" })).toBe("10s");
  });

  test("boolean flags: --flag and --no-flag both win over the environment", () => {
    expect(readFlag("json", true, json, { X_JSON: "0" })).toBe(true);
    expect(readFlag("json", false, json, { X_JSON: "1" })).toBe(false);
    expect(readFlag("json", undefined, json, { X_JSON: "yes" })).toBe(true);
    expect(readFlag("json", undefined, json, {})).toBe(false);
    expect(() => readFlag("json", undefined, json, { X_JSON: "maybe" })).toThrow("X_JSON (for --json) must be 1 or 0");
  });
});
