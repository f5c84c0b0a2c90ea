// Mutation testing (StrykerJS) of the pure modules against the unit tier: `npm run test:mutation`.
// What the score means and why the threshold is where it is: docs/testing.md.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: "npm",
  // Bun runs the tests; Stryker's command runner drives it and tells the instrumented code which
  // mutant is active through an environment variable. It reports no per-test coverage, so every
  // mutant runs the whole unit tier (about a second with Bun's start-up).
  testRunner: "command",
  commandRunner: { command: "node_modules/.bin/bun test ./test/unit" },
  coverageAnalysis: "off",
  // Pure logic only: the I/O modules (the request engine, the server, observe.ts, the HTTP
  // endpoint) are the integration tier's (test/integration/), which can join with a second config.
  mutate: [
    "src/fib.ts",
    "src/protocol.ts",
    "src/duration.ts",
    "src/log-throttle.ts",
    "src/health/*.ts",
    "!src/health/observe.ts",
    "src/bench/histogram.ts",
    "src/bench/n-spec.ts",
    "src/bench/summary.ts",
    "src/rpc/triage.ts",
    "src/rpc/poison-ledger.ts",
    "src/rpc/server-presence.ts",
    "src/rpc/nack-policy.ts",
    "src/rpc/pending-requests.ts",
    "src/call/format.ts",
    "src/call/lines.ts",
    "src/call/parse-n.ts",
    "src/ops/bucket-histogram.ts",
    "src/ops/exposition.ts",
    "src/ops/listen-address.ts",
    "src/ops/routes.ts",
    "src/ops/worker-metrics.ts",
    "src/cli/argv.ts",
    "src/cli/values.ts",
  ],
  // Copied into each sandbox otherwise (unit tests read README.md, docs/ and packaging/, so those
  // stay in). tsconfig.json stays out because Stryker rewrites it with the TypeScript JS API,
  // which TypeScript 7 (the Go port) no longer has; Bun needs nothing from it.
  ignorePatterns: ["/dist", "/reports", "/test/e2e", "/test/release", "/test/packaging", "/test/interop", "/tsconfig.json"],
  concurrency: 2,
  // Only mutants in changed code (or whose tests changed) run again; the rest come from this file.
  incremental: true,
  incrementalFile: "reports/mutation/stryker-incremental.json",
  reporters: ["clear-text", "progress", "html", "json"],
  htmlReporter: { fileName: "reports/mutation/index.html" },
  jsonReporter: { fileName: "reports/mutation/mutation.json" },
  tempDirName: ".stryker-tmp",
  cleanTempDir: "always",
  // 95 after the survivors of the first run were read: every one left is equivalent (docs/testing.md).
  // Below 90 fails: room for the equivalent mutants new code brings, none for an untested module.
  thresholds: { high: 95, low: 90, break: 90 },
};
