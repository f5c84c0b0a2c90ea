import type { PositionalArgDef } from "citty";

/**
 * Flag definitions. Every flag can also be set by an environment variable (for containers and
 * systemd units); an explicit flag wins over the environment, which wins over the default.
 * citty's own `default` would hide whether a flag was given, so defaults live here and --help
 * shows them.
 *
 * The naming rule, in one place (envNameFor): the connection flags every command shares keep
 * the names users know (AMQP_URL, FIBRPC_QUEUE, FIBRPC_CA...); every other flag's variable is
 * FIBRPC_<COMMAND>_<FLAG>, so that a variable set for one command never changes another.
 *
 * The definitions carry citty's literal `type` ("string", "boolean"): citty derives the type of
 * each parsed value from it, and without it every value would be typed `never`
 * (test/unit/options-types.test.ts holds that).
 */
export interface EnvOption<Fallback extends string | undefined = string | undefined> {
  readonly type: "string";
  /** The flag's name, without dashes, as messages quote it. */
  readonly name: string;
  readonly description: string;
  readonly valueHint: string;
  readonly env: string;
  /** The variable this flag was read from before the naming rule; still read, with a warning. */
  readonly legacyEnv?: string;
  /** The value when neither the flag nor the environment gives one. */
  readonly fallback: Fallback;
  readonly choices?: readonly string[];
  readonly alias?: string;
  /** May be given several times (read with Options.given: citty keeps only the last). */
  readonly repeatable?: boolean;
}

export interface EnvFlag {
  readonly type: "boolean";
  readonly name: string;
  readonly description: string;
  readonly env: string;
  readonly legacyEnv?: string;
  readonly fallback: boolean;
}

/** A flag definition that learns its command's name (and so its variable's) in commandArgs(). */
export type Draft<Def> = (command: string, flag: string) => Def;

export interface OptionSpec<Fallback extends string | undefined> {
  description: string;
  fallback?: Fallback;
  valueHint?: string;
  choices?: readonly string[];
  alias?: string;
  repeatable?: boolean;
  /** Before the naming rule this flag was read from FIBRPC_<FLAG>: keep reading it, with a warning. */
  legacyUnprefixedEnv?: boolean;
}

export interface FlagSpec {
  description: string;
  fallback?: boolean;
  legacyUnprefixedEnv?: boolean;
}

export function envNameFor(command: string, flag: string): string {
  return `FIBRPC_${command}_${flag}`.toUpperCase().replace(/[^A-Z0-9]+/g, "_");
}

function legacyEnvNameFor(flag: string): string {
  return envNameFor("", flag).replace("FIBRPC__", "FIBRPC_");
}

function optionDef<Fallback extends string | undefined>(
  name: string,
  env: string,
  spec: OptionSpec<Fallback>,
  legacyEnv: string | undefined,
): EnvOption<Fallback> {
  const notes = [`env ${env}`, spec.fallback === undefined ? undefined : `default ${spec.fallback}`].filter(Boolean);
  return {
    type: "string",
    name,
    description: `${spec.description}${spec.repeatable ? "; may be repeated" : ""} (${notes.join(", ")})`,
    valueHint: spec.choices ? spec.choices.join("|") : (spec.valueHint ?? "value"),
    env,
    fallback: spec.fallback as Fallback,
    ...(legacyEnv === undefined ? {} : { legacyEnv }),
    ...(spec.choices === undefined ? {} : { choices: spec.choices }),
    ...(spec.alias === undefined ? {} : { alias: spec.alias }),
    ...(spec.repeatable ? { repeatable: true } : {}),
  };
}

function flagDef(name: string, env: string, spec: FlagSpec, legacyEnv: string | undefined): EnvFlag {
  const envNote = spec.fallback ? `env ${env}=0 to turn off, default on` : `env ${env}=1`;
  return {
    type: "boolean",
    name,
    description: `${spec.description} (${envNote})`,
    env,
    fallback: spec.fallback ?? false,
    ...(legacyEnv === undefined ? {} : { legacyEnv }),
  };
}

/** A string option of one command; its variable is FIBRPC_<COMMAND>_<FLAG>. */
export function option<const Fallback extends string | undefined = undefined>(spec: OptionSpec<Fallback>): Draft<EnvOption<Fallback>> {
  return (command, name) => optionDef(name, envNameFor(command, name), spec, spec.legacyUnprefixedEnv ? legacyEnvNameFor(name) : undefined);
}

/** A boolean flag of one command; with `fallback: true` it is on unless `--no-<name>` or its variable says 0. */
export function flag(spec: FlagSpec): Draft<EnvFlag> {
  return (command, name) => flagDef(name, envNameFor(command, name), spec, spec.legacyUnprefixedEnv ? legacyEnvNameFor(name) : undefined);
}

/** A connection option every command shares, under the variable name users already know. */
export function sharedOption<const Fallback extends string | undefined = undefined>(env: string, spec: OptionSpec<Fallback>): Draft<EnvOption<Fallback>> {
  return (_command, name) => optionDef(name, env, spec, undefined);
}

export function sharedFlag(env: string, spec: FlagSpec): Draft<EnvFlag> {
  return (_command, name) => flagDef(name, env, spec, undefined);
}

type Finished<Def> = Def extends Draft<infer Built> ? Built : Def;
type ArgDraft = Draft<EnvOption> | Draft<EnvFlag> | PositionalArgDef;

/** A command's flag definitions, each draft given the command's name: what citty and the readers see. */
export function commandArgs<const Drafts extends Record<string, ArgDraft>>(
  command: string,
  drafts: Drafts,
): { readonly [K in keyof Drafts]: Finished<Drafts[K]> } {
  const entries = Object.entries(drafts).map(([name, draft]) => [name, typeof draft === "function" ? draft(command, name) : draft]);
  return Object.fromEntries(entries) as { readonly [K in keyof Drafts]: Finished<Drafts[K]> };
}
