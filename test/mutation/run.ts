/**
 * `npm run test:mutation`: StrykerJS over the pure modules (stryker.config.mjs), incremental,
 * so only mutants in changed source run again (seconds instead of minutes).
 *
 * Stryker's command runner reports no tests, so its incremental mode cannot see that a test
 * changed and would keep "survived" for a mutant a new test kills. This wrapper hashes what
 * the run depends on besides the mutated source (the unit tests, the config, package.json) and
 * forces a full run when that changed since the last run that finished.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "../..");
const STAMP = join(ROOT, "reports/mutation/inputs.sha256");
const INPUTS = ["test/unit", "stryker.config.mjs", "package.json"];

function filesUnder(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .sort()
    .flatMap((name) => filesUnder(join(path, name)));
}

function inputsHash(): string {
  const hash = new Bun.CryptoHasher("sha256");
  for (const file of INPUTS.flatMap((input) => filesUnder(join(ROOT, input)))) {
    hash.update(relative(ROOT, file));
    hash.update(readFileSync(file));
  }
  return hash.digest("hex");
}

const current = inputsHash();
const testsChanged = !existsSync(STAMP) || readFileSync(STAMP, "utf8").trim() !== current;
if (testsChanged) console.error("test:mutation: tests or config changed since the last run: every mutant runs (--force)");
const stryker = Bun.spawn([join(ROOT, "node_modules/.bin/stryker"), "run", ...(testsChanged ? ["--force"] : []), ...process.argv.slice(2)], {
  cwd: ROOT,
  stdio: ["inherit", "inherit", "inherit"],
});
const code = await stryker.exited;
if (code === 0) {
  mkdirSync(join(ROOT, "reports/mutation"), { recursive: true });
  writeFileSync(STAMP, `${current}\n`);
}
process.exit(code);
