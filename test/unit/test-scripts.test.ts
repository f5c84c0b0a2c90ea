/**
 * Bun 1.4.5 takes a run-wide per-test timeout only from `bun test --timeout` (bunfig.toml's
 * `[test] timeout` is silently ignored; setDefaultTimeout in a preload reaches the first file
 * only). Without it every test gets 5 s, and a test that waits 10 s for a worker fails as a
 * "timeout" that is really the runner's. This keeps the flag on every script that runs tests.
 */
import { describe, expect, test } from "bun:test";
import packageJson from "../../package.json" with { type: "json" };

const scripts: Record<string, string> = packageJson.scripts;
const bunTestRuns = Object.entries(scripts).flatMap(([name, command]) =>
  command
    .split("&&")
    .map((step) => step.trim())
    .filter((step) => /^bun test( |$)/.test(step))
    .map((step) => [name, step] as const),
);

describe("package.json test scripts", () => {
  test("there are tiers to run: unit, integration, e2e, and npm test runs them all", () => {
    for (const tier of ["test", "test:unit", "test:integration", "test:e2e"]) expect(scripts[tier]).toContain("bun test");
    // No path: every tier in one run, one summary line (the cluster tier has a script and a CI step of its own).
    expect(scripts.test).toMatch(/bun test --timeout \d+( --path-ignore-patterns='test\/cluster\/\*\*')?$/);
  });

  test.each(bunTestRuns)("%s passes --timeout to bun test", (_name, step) => {
    expect(step).toMatch(/ --timeout[ =]30000\b/);
  });
});
