/**
 * Builds the single `fibrpc` executable with Bun's compiler.
 *   bun scripts/build.ts                          -> dist/fibrpc for this machine
 *   bun scripts/build.ts --target bun-linux-arm64 --outfile dist/release/fibrpc-linux-arm64
 */
import { parseArgs } from "node:util";
import pkg from "../package.json" with { type: "json" };

function gitCommit(): string {
  const result = Bun.spawnSync(["git", "rev-parse", "--short=12", "HEAD"], { stderr: "ignore" });
  const commit = result.success ? result.stdout.toString().trim() : "";
  if (commit === "") return "unknown";
  const dirty = Bun.spawnSync(["git", "status", "--porcelain", "--untracked-files=no"]).stdout.toString().trim() !== "";
  return dirty ? `${commit}-dirty` : commit;
}

/** Compiles src/cli.ts into one executable; the release script (scripts/release.ts) uses this for every target. */
export async function buildBinary(outfile: string, target?: string): Promise<Bun.BuildOutput> {
  const result = await Bun.build({
    entrypoints: ["src/cli.ts"],
    compile: {
      outfile,
      ...(target ? { target: target as Bun.Build.CompileTarget } : {}),
      // A downloaded binary must not change behaviour because of files in the user's directory.
      autoloadDotenv: false,
      autoloadBunfig: false,
    },
    minify: true,
    sourcemap: "linked",
    bytecode: true,
    format: "esm",
    define: {
      FIBRPC_VERSION: JSON.stringify(pkg.version),
      FIBRPC_COMMIT: JSON.stringify(gitCommit()),
    },
  });
  if (!result.success) {
    for (const message of result.logs) console.error(message);
    throw new Error(`build of ${outfile} failed`);
  }
  return result;
}

if (import.meta.main) {
  // Parsed here, not at import, so that scripts importing buildBinary keep their own arguments.
  const { values } = parseArgs({
    options: {
      target: { type: "string" },
      outfile: { type: "string", default: "dist/fibrpc" },
    },
  });
  await buildBinary(values.outfile ?? "dist/fibrpc", values.target);
  console.error(`built ${values.outfile}${values.target ? ` for ${values.target}` : ""}`);
}
