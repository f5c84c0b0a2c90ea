import type { ArgsDef } from "citty";

const BUILTIN_FLAGS = ["help", "h"];

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}

export type FlagProblem = { kind: "unknown" | "missing-value"; flag: string };

/**
 * citty silently ignores flags it does not know, so `--timout 5` would run with the default
 * timeout, and a value flag given last with no value (`call 5 --timeout`) as if it were not
 * given at all. This finds the first such flag so the CLI can refuse it. Pure: argv in, problem out.
 */
export function findFlagProblem(rawArgs: readonly string[], args: ArgsDef): FlagProblem | undefined {
  const known = new Set(BUILTIN_FLAGS);
  const takesValue = new Set<string>();
  for (const [name, def] of Object.entries(args)) {
    if (def.type === "positional") continue;
    const alias = "alias" in def ? def.alias : undefined;
    const aliases = alias === undefined ? [] : Array.isArray(alias) ? alias : [alias];
    for (const spelling of [name, kebab(name), ...aliases]) {
      known.add(spelling);
      if (def.type === "boolean") known.add(`no-${spelling}`);
      if (def.type === "string" || def.type === "enum") takesValue.add(spelling);
    }
  }
  for (let index = 0; index < rawArgs.length; index++) {
    const arg = rawArgs[index] ?? "";
    if (arg === "--") return undefined;
    if (!arg.startsWith("-") || arg === "-") continue;
    const name = arg.replace(/^--?/, "").split("=")[0] ?? "";
    const flag = arg.split("=")[0] ?? arg;
    if (!known.has(name)) return { kind: "unknown", flag };
    if (takesValue.has(name) && !arg.includes("=")) {
      if (index + 1 >= rawArgs.length || rawArgs[index + 1] === "--") return { kind: "missing-value", flag };
      index++;
    }
  }
  return undefined;
}
