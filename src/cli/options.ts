import { UsageError } from "../errors.ts";

/**
 * Every flag can also be set by an environment variable (for containers and systemd units);
 * an explicit flag wins over the environment, which wins over the default. citty's own
 * `default` would hide whether a flag was given, so defaults live here and --help shows them.
 *
 * The definitions carry citty's literal `type` ("string", "boolean"): citty derives the type of
 * each parsed value from it, and without it every value would be typed `never`
 * (test/unit/options-types.test.ts holds that).
 */
export interface EnvOption<Fallback extends string | undefined = string | undefined> {
  readonly type: "string";
  readonly description: string;
  readonly valueHint: string;
  readonly env: string;
  /** The value when neither the flag nor the environment gives one. */
  readonly fallback: Fallback;
  readonly choices?: readonly string[];
  readonly alias?: string;
}

export interface EnvFlag {
  readonly type: "boolean";
  readonly description: string;
  readonly env: string;
  readonly fallback: boolean;
}

export type Env = Readonly<Record<string, string | undefined>>;

export function option<const Fallback extends string | undefined = undefined>(spec: {
  description: string;
  env: string;
  fallback?: Fallback;
  valueHint?: string;
  choices?: readonly string[];
  alias?: string;
}): EnvOption<Fallback> {
  const notes = [`env ${spec.env}`, spec.fallback === undefined ? undefined : `default ${spec.fallback}`].filter(Boolean);
  return {
    type: "string",
    description: `${spec.description} (${notes.join(", ")})`,
    valueHint: spec.choices ? spec.choices.join("|") : (spec.valueHint ?? "value"),
    env: spec.env,
    fallback: spec.fallback as Fallback,
    ...(spec.choices === undefined ? {} : { choices: spec.choices }),
    ...(spec.alias === undefined ? {} : { alias: spec.alias }),
  };
}

/** A boolean flag; with `fallback: true` it is on unless `--no-<name>` or its env var says 0. */
export function flag(spec: { description: string; env: string; fallback?: boolean }): EnvFlag {
  const envNote = spec.fallback ? `env ${spec.env}=0 to turn off, default on` : `env ${spec.env}=1`;
  return { type: "boolean", description: `${spec.description} (${envNote})`, env: spec.env, fallback: spec.fallback ?? false };
}

function given(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

/** The option's value: flag, else environment, else default (undefined only when there is none). */
export function readOption<Fallback extends string | undefined>(
  name: string,
  value: string | undefined,
  def: EnvOption<Fallback>,
  env: Env = process.env,
): string | Fallback {
  const chosen: string | Fallback = given(value) ?? given(env[def.env]) ?? def.fallback;
  if (chosen !== undefined && def.choices !== undefined && !def.choices.includes(chosen)) {
    throw new UsageError(`--${name} must be one of ${def.choices.join(", ")}; got '${chosen}'`);
  }
  return chosen;
}

const TRUE = new Set(["1", "true", "yes", "on"]);
const FALSE = new Set(["0", "false", "no", "off", ""]);

export function readFlag(name: string, value: boolean | undefined, def: EnvFlag, env: Env = process.env): boolean {
  if (value !== undefined) return value;
  const raw = env[def.env];
  if (raw === undefined) return def.fallback;
  const normalised = raw.trim().toLowerCase();
  if (TRUE.has(normalised)) return true;
  if (FALSE.has(normalised)) return false;
  throw new UsageError(`${def.env} (for --${name}) must be 1 or 0, true or false; got '${raw}'`);
}
