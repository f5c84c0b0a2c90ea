import { describe, expect, test } from "bun:test";
import type { ArgsDef } from "citty";
import benchCommand from "../../src/commands/bench.ts";
import callCommand from "../../src/commands/call.ts";
import healthCommand from "../../src/commands/health.ts";
import serveCommand from "../../src/commands/serve.ts";
import { checkArgv } from "../../src/cli/argv.ts";
import { commandArgs, envNameFor, flag, option } from "../../src/cli/options.ts";
import { Options } from "../../src/cli/read-options.ts";
import { UsageError } from "../../src/errors.ts";

const COMMANDS = [
  ["serve", serveCommand],
  ["call", callCommand],
  ["health", healthCommand],
  ["bench", benchCommand],
] as const;
/** The connection settings every command shares keep the names users know. */
const SHARED = {
  url: "AMQP_URL",
  "url-file": "AMQP_URL_FILE",
  queue: "FIBRPC_QUEUE",
  ca: "FIBRPC_CA",
  cert: "FIBRPC_CERT",
  key: "FIBRPC_KEY",
  insecure: "FIBRPC_INSECURE",
};

function namedFlags(args: ArgsDef): [string, { env?: unknown; description?: string }][] {
  return Object.entries(args).filter(([, def]) => def.type !== "positional");
}

describe("one naming rule for environment variables", () => {
  test("FIBRPC_<COMMAND>_<FLAG>", () => {
    expect(envNameFor("call", "timeout")).toBe("FIBRPC_CALL_TIMEOUT");
    expect(envNameFor("serve", "drain-timeout")).toBe("FIBRPC_SERVE_DRAIN_TIMEOUT");
    expect(envNameFor("health", "min-consumers")).toBe("FIBRPC_HEALTH_MIN_CONSUMERS");
  });

  for (const [name, command] of COMMANDS) {
    test(`${name}: each flag has its own variable by the rule, named in its --help description`, () => {
      const flags = namedFlags(command.args as ArgsDef);
      expect(flags.length).toBeGreaterThan(0);
      for (const [flagName, def] of flags) {
        const expected = SHARED[flagName as keyof typeof SHARED] ?? envNameFor(name, flagName);
        expect({ flag: flagName, env: def.env }).toEqual({ flag: flagName, env: expected });
        expect(def.description).toContain(`env ${expected}`);
      }
    });
  }

  test("no variable means two things: a command's own are its own", () => {
    const owners = new Map<string, Set<string>>();
    for (const [name, command] of COMMANDS) {
      for (const [, def] of namedFlags(command.args as ArgsDef)) {
        const env = String(def.env);
        owners.set(env, (owners.get(env) ?? new Set()).add(name));
      }
    }
    for (const [env, commands] of owners) if (!Object.values(SHARED).includes(env)) expect({ env, commands: commands.size }).toEqual({ env, commands: 1 });
  });
});

describe("reading settings: flag > environment > default", () => {
  const args = commandArgs("demo", {
    timeout: option({ description: "t", fallback: "10s", legacyUnprefixedEnv: true }),
    name: option({ description: "n" }),
    json: flag({ description: "j" }),
    probe: flag({ description: "p", fallback: true }),
  });
  const read = (values: Record<string, string | boolean | undefined>, env: Record<string, string>) => new Options(args, values, [], env);

  test("options", () => {
    expect(read({ timeout: "2s" }, { FIBRPC_DEMO_TIMEOUT: "5s" }).text("timeout")).toBe("2s");
    expect(read({}, { FIBRPC_DEMO_TIMEOUT: "5s" }).text("timeout")).toBe("5s");
    expect(read({}, {}).text("timeout")).toBe("10s");
    expect(read({}, {}).text("name")).toBeUndefined();
    expect(read({}, { FIBRPC_DEMO_TIMEOUT: "5s" }).setting("timeout")).toEqual({ text: "5s", from: "FIBRPC_DEMO_TIMEOUT (for --timeout)" });
  });

  test("an empty variable is an error naming it, not the default", () => {
    expect(() => read({}, { FIBRPC_DEMO_TIMEOUT: "" }).text("timeout")).toThrow("FIBRPC_DEMO_TIMEOUT (for --timeout) is set but empty");
    expect(() => read({}, { FIBRPC_DEMO_JSON: " " }).flag("json")).toThrow("FIBRPC_DEMO_JSON (for --json) is set but empty");
  });

  test("a value's error names where it came from", () => {
    expect(() => read({}, { FIBRPC_DEMO_TIMEOUT: "abc" }).duration("timeout")).toThrow(/^FIBRPC_DEMO_TIMEOUT \(for --timeout\) needs a positive duration/);
    expect(() => read({ timeout: "abc" }, {}).duration("timeout")).toThrow(/^--timeout needs a positive duration/);
  });

  test("the old unprefixed variable still works for its command, with one warning naming the new one", () => {
    const legacy = read({}, { FIBRPC_TIMEOUT: "3s" });
    expect(legacy.duration("timeout")).toBe(3000);
    expect(legacy.warnings).toEqual(["FIBRPC_TIMEOUT is deprecated: set FIBRPC_DEMO_TIMEOUT instead"]);
    const both = read({}, { FIBRPC_TIMEOUT: "3s", FIBRPC_DEMO_TIMEOUT: "4s" });
    expect(both.duration("timeout")).toBe(4000);
    expect(both.warnings).toEqual(["FIBRPC_TIMEOUT is deprecated and ignored: FIBRPC_DEMO_TIMEOUT is set"]);
    expect(read({ timeout: "1s" }, {}).warnings).toEqual([]);
  });

  test("booleans: --flag and --no-flag win over the environment; a default-on flag", () => {
    expect(read({ json: true }, { FIBRPC_DEMO_JSON: "0" }).flag("json")).toBe(true);
    expect(read({ json: false }, { FIBRPC_DEMO_JSON: "1" }).flag("json")).toBe(false);
    expect(read({}, {}).flag("json")).toBe(false);
    expect(read({}, {}).flag("probe")).toBe(true);
    expect(read({}, { FIBRPC_DEMO_PROBE: "0" }).flag("probe")).toBe(false);
    expect(read({ probe: true }, { FIBRPC_DEMO_PROBE: "0" }).flag("probe")).toBe(true);
  });

  test("descriptions say how to set each from the environment", () => {
    expect(args.json.description).toBe("j (env FIBRPC_DEMO_JSON=1)");
    expect(args.probe.description).toBe("p (env FIBRPC_DEMO_PROBE=0 to turn off, default on)");
    expect(args.timeout.description).toBe("t (env FIBRPC_DEMO_TIMEOUT, default 10s)");
  });

  test("boolean flags and their variables accept the same spellings and refuse the same garbage", () => {
    for (const [spelling, value] of [
      ["1", true],
      ["true", true],
      ["YES", true],
      ["on", true],
      ["0", false],
      ["false", false],
      ["no", false],
      ["Off", false],
    ] as const) {
      expect({ spelling, env: read({}, { FIBRPC_DEMO_JSON: spelling }).flag("json") }).toEqual({ spelling, env: value });
      expect({ spelling, argv: checkArgv([`--json=${spelling}`], args) }).toEqual({ spelling, argv: { ok: true, args: [value ? "--json" : "--no-json"] } });
    }
    for (const garbage of ["maybe", "2", "y e s", "tru"]) {
      expect(() => read({}, { FIBRPC_DEMO_JSON: garbage }).flag("json")).toThrow(UsageError);
      expect(() => read({}, { FIBRPC_DEMO_JSON: garbage }).flag("json")).toThrow(/^FIBRPC_DEMO_JSON \(for --json\) must be 1 or 0/);
      expect(checkArgv([`--json=${garbage}`], args)).toMatchObject({ ok: false, problem: { kind: "bad-boolean", flag: "--json" } });
    }
  });
});
