import { expect, test } from "bun:test";
import { flag, readFlag } from "../../src/cli/options.ts";

test("a default-on flag (--probe / --no-probe): flag > env > fallback", () => {
  const probe = flag({ description: "probe", env: "X_PROBE", fallback: true });
  expect(readFlag("probe", undefined, probe, {})).toBe(true);
  expect(readFlag("probe", false, probe, {})).toBe(false); // --no-probe
  expect(readFlag("probe", undefined, probe, { X_PROBE: "0" })).toBe(false);
  expect(readFlag("probe", true, probe, { X_PROBE: "0" })).toBe(true);
  expect(probe.description).toContain("X_PROBE=0 to turn off, default on");
});

test("flags without a fallback stay off by default, as before", () => {
  const json = flag({ description: "json", env: "X_JSON" });
  expect(readFlag("json", undefined, json, {})).toBe(false);
  expect(readFlag("json", undefined, json, { X_JSON: "1" })).toBe(true);
  expect(json.description).toBe("json (env X_JSON=1)");
});
