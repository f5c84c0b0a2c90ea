import type { ArgsDef } from "citty";
import { parseBoolean } from "./values.ts";

/**
 * A look at argv before citty parses it, for what citty lets through: it ignores flags it does
 * not know (`--timout 5` would run with the default timeout), takes a value flag given last
 * with no value as not given, keeps only the last of a repeated flag, reads `--json=0` as
 * true, and lets stray positionals through (`fibrpc serve myqueue` would serve rpc_queue).
 * Pure: argv in, tokens or a problem out.
 */

const BUILTIN_FLAGS = ["help", "h"];

export type ArgvProblem =
  | { kind: "unknown"; flag: string }
  | { kind: "missing-value"; flag: string }
  | { kind: "empty-value"; flag: string }
  | { kind: "bad-boolean"; flag: string; value: string }
  | { kind: "negation-with-value"; flag: string }
  | { kind: "unexpected-argument"; value: string };

type Token =
  | { kind: "option"; name: string; spelling: string; value: string }
  | { kind: "boolean"; name: string; spelling: string; value: boolean }
  | { kind: "positional"; value: string };

interface Spelling {
  /** The flag's name in the definitions. */
  name: string;
  takesValue: boolean;
}

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}

function spellings(args: ArgsDef): Map<string, Spelling> {
  const known = new Map<string, Spelling>();
  for (const [name, def] of Object.entries(args)) {
    if (def.type === "positional") continue;
    const alias = "alias" in def ? def.alias : undefined;
    const aliases = alias === undefined ? [] : Array.isArray(alias) ? alias : [alias];
    for (const spelling of [name, kebab(name), ...aliases]) known.set(spelling, { name, takesValue: def.type === "string" || def.type === "enum" });
  }
  return known;
}

/**
 * argv as tokens, and the problems found on the way (a word with a problem yields no token).
 * `--x=v` and `--x v` are one token; after `--` everything is positional.
 */
function tokenize(rawArgs: readonly string[], args: ArgsDef): { tokens: Token[]; problems: ArgvProblem[] } {
  const known = spellings(args);
  const tokens: Token[] = [];
  const problems: ArgvProblem[] = [];
  for (let index = 0; index < rawArgs.length; index++) {
    const arg = rawArgs[index] ?? "";
    if (arg === "--") {
      tokens.push(...rawArgs.slice(index + 1).map((value) => ({ kind: "positional" as const, value })));
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      tokens.push({ kind: "positional", value: arg });
      continue;
    }
    const equals = arg.indexOf("=");
    const flag = equals === -1 ? arg : arg.slice(0, equals);
    const inline = equals === -1 ? undefined : arg.slice(equals + 1);
    const spelled = flag.replace(/^--?/, "");
    if (BUILTIN_FLAGS.includes(spelled)) continue;
    const negated = spelled.startsWith("no-") ? known.get(spelled.slice(3)) : undefined;
    if (negated !== undefined && !negated.takesValue) {
      if (inline !== undefined) problems.push({ kind: "negation-with-value", flag });
      else tokens.push({ kind: "boolean", name: negated.name, spelling: flag, value: false });
      continue;
    }
    const spelling = known.get(spelled);
    if (spelling === undefined) {
      problems.push({ kind: "unknown", flag });
      continue;
    }
    if (!spelling.takesValue) {
      const value = inline === undefined ? true : parseBoolean(inline);
      if (value === undefined) problems.push({ kind: "bad-boolean", flag, value: inline ?? "" });
      else tokens.push({ kind: "boolean", name: spelling.name, spelling: flag, value });
      continue;
    }
    let value = inline;
    if (value === undefined) {
      // The next word is the value even when it starts with '-' (`--timeout -1` is a bad timeout, not a missing one).
      if (index + 1 >= rawArgs.length || rawArgs[index + 1] === "--") {
        problems.push({ kind: "missing-value", flag });
        continue;
      }
      value = rawArgs[++index] ?? "";
    }
    if (value.trim() === "") problems.push({ kind: "empty-value", flag });
    else tokens.push({ kind: "option", name: spelling.name, spelling: flag, value });
  }
  return { tokens, problems };
}

/**
 * Checks argv against a command's definitions and returns it in the forms citty reads right:
 * a boolean given a value (`--json=no`) becomes `--json` or `--no-json`.
 */
export function checkArgv(rawArgs: readonly string[], args: ArgsDef): { ok: true; args: string[] } | { ok: false; problem: ArgvProblem } {
  const result = tokenize(rawArgs, args);
  const [problem] = result.problems;
  if (problem !== undefined) return { ok: false, problem };
  const takesPositionals = Object.values(args).some((def) => def.type === "positional");
  const normalised: string[] = [];
  const positionals: string[] = [];
  for (const token of result.tokens) {
    if (token.kind === "positional") positionals.push(token.value);
    else if (token.kind === "boolean") normalised.push(token.value ? `--${token.name}` : `--no-${token.name}`);
    else normalised.push(`--${token.name}=${token.value}`);
  }
  const [stray] = positionals;
  if (!takesPositionals && stray !== undefined) return { ok: false, problem: { kind: "unexpected-argument", value: stray } };
  // Positionals after `--` so that one that starts with '-' stays a positional.
  return { ok: true, args: positionals.length === 0 ? normalised : [...normalised, "--", ...positionals] };
}

/** Every value given to one string flag, in order (citty keeps only the last); words with a problem are passed over. */
export function valuesOf(rawArgs: readonly string[], args: ArgsDef, name: string): string[] {
  return tokenize(rawArgs, args).tokens.flatMap((token) => (token.kind === "option" && token.name === name ? [token.value] : []));
}

/** The last value given to one boolean flag (`--json`, `--no-json`, `--json=0`), undefined when it is not given. */
export function lastBooleanOf(rawArgs: readonly string[], args: ArgsDef, name: string): boolean | undefined {
  let value: boolean | undefined;
  for (const token of tokenize(rawArgs, args).tokens) if (token.kind === "boolean" && token.name === name) value = token.value;
  return value;
}
