import type { ArgsDef } from "citty";

const BUILTIN_FLAGS = ["help", "h"];

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}

/**
 * citty silently ignores flags it does not know, so `--timout 5` would run with the default
 * timeout. This finds the first such flag so the CLI can refuse it. Pure: argv in, name out.
 */
export function findUnknownFlag(rawArgs: readonly string[], args: ArgsDef): string | undefined {
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
    if (!known.has(name)) return arg.split("=")[0];
    if (takesValue.has(name) && !arg.includes("=")) index++;
  }
  return undefined;
}
