import type { ArgsDef } from "citty";
import { UsageError } from "../errors.ts";
import { clip } from "../text.ts";
import { valuesOf } from "./argv.ts";
import { parseBoolean, parseDurationSetting, parseIntegerSetting, type DurationLimits } from "./values.ts";
import type { EnvFlag, EnvOption } from "./options.ts";

export type Env = Readonly<Record<string, string | undefined>>;

type OptionKeys<A> = { [K in keyof A]: A[K] extends EnvOption ? K : never }[keyof A] & string;
type FlagKeys<A> = { [K in keyof A]: A[K] extends EnvFlag ? K : never }[keyof A] & string;
type FallbackOf<Def> = Def extends EnvOption<infer Fallback> ? Fallback : never;

/** The flags' values as citty parses them: text or a boolean, undefined when not given. */
export type OptionValues<A> = { readonly [K in OptionKeys<A>]?: string | undefined } & { readonly [K in FlagKeys<A>]?: boolean | undefined };

/** Where a value came from, as a message names it: `--timeout`, `FIBRPC_CALL_TIMEOUT (for --timeout)`. */
export interface Setting {
  text: string;
  from: string;
}

/**
 * Reads one command's settings: flag, else environment variable (its current name, else its
 * name before the naming rule, with a warning), else default. Every error names where the
 * bad value came from, quoting at most a short piece of it.
 */
export class Options<A extends ArgsDef> {
  /** Deprecation and safety warnings, for the command to show once it knows where (stderr or its log). */
  readonly warnings: string[] = [];

  /** citty's values, by name: each read is checked for its type below, not trusted to a generic index. */
  private readonly values: Readonly<Record<string, string | boolean | undefined>>;

  constructor(
    private readonly defs: A,
    values: OptionValues<A>,
    private readonly rawArgs: readonly string[],
    readonly env: Env = process.env,
  ) {
    this.values = values;
  }

  /** The option's text and where it came from; undefined when it has no value and no default. */
  setting<K extends OptionKeys<A>>(name: K): Setting | undefined {
    const def = this.option(name);
    const value = this.values[name];
    const given = typeof value === "string" ? value : undefined;
    if (given !== undefined && given.trim() === "") throw new UsageError(`--${def.name} is empty: give it a value or leave it out`);
    const spelled = def.alias === undefined ? `--${def.name}` : `-${def.alias}/--${def.name}`;
    const chosen = given !== undefined ? { text: given, from: spelled } : (this.fromEnv(def) ?? defaultOf(def));
    if (chosen !== undefined && def.choices !== undefined && !def.choices.includes(chosen.text)) {
      throw new UsageError(`${chosen.from} must be one of ${def.choices.join(", ")}; got '${clip(chosen.text)}'`);
    }
    return chosen;
  }

  text<K extends OptionKeys<A>>(name: K): string | FallbackOf<A[K]> {
    // The fallback's type is the definition's: only an option without one yields undefined.
    return this.setting(name)?.text as string | FallbackOf<A[K]>;
  }

  flag<K extends FlagKeys<A>>(name: K): boolean {
    const def = this.defs[name];
    if (!isEnvFlag(def)) throw new Error(`--${name} is not a boolean flag`);
    const given = this.values[name];
    if (typeof given === "boolean") return given;
    const fromEnv = this.fromEnv(def);
    if (fromEnv === undefined) return def.fallback;
    const value = parseBoolean(fromEnv.text);
    if (value === undefined) throw new UsageError(`${fromEnv.from} must be 1 or 0 (or true/false, yes/no, on/off); got '${clip(fromEnv.text)}'`);
    return value;
  }

  duration<K extends OptionKeys<A>>(name: K, limits?: DurationLimits): number {
    return parseDurationSetting(this.required(name), limits);
  }

  integer<K extends OptionKeys<A>>(name: K, bounds: { min: number; max: number }): number {
    return parseIntegerSetting(this.required(name), bounds);
  }

  /** Every value the flag was given on the command line, in order (citty keeps only the last). */
  given<K extends OptionKeys<A>>(name: K): string[] {
    return valuesOf(this.rawArgs, this.defs, name);
  }

  private required<K extends OptionKeys<A>>(name: K): Setting {
    const setting = this.setting(name);
    if (setting === undefined) throw new Error(`--${name} has no value and no default`);
    return setting;
  }

  private option(name: string): EnvOption {
    const def = this.defs[name];
    if (!isEnvOption(def)) throw new Error(`--${name} is not an option`);
    return def;
  }

  private fromEnv(def: EnvOption | EnvFlag): Setting | undefined {
    const current = this.env[def.env];
    const legacy = def.legacyEnv === undefined ? undefined : this.env[def.legacyEnv];
    if (legacy !== undefined && def.legacyEnv !== undefined) {
      this.warnings.push(
        current === undefined ? `${def.legacyEnv} is deprecated: set ${def.env} instead` : `${def.legacyEnv} is deprecated and ignored: ${def.env} is set`,
      );
    }
    if (current !== undefined) return nonEmpty({ text: current, from: `${def.env} (for --${def.name})` });
    if (legacy !== undefined && def.legacyEnv !== undefined) return nonEmpty({ text: legacy, from: `${def.legacyEnv} (for --${def.name})` });
    return undefined;
  }
}

/** An empty variable is a mistake (an unset `$PROD_URL` expanded), never "use the default". */
function nonEmpty(setting: Setting): Setting {
  if (setting.text.trim() === "") throw new UsageError(`${setting.from} is set but empty: give it a value or unset it`);
  return setting;
}

function defaultOf(def: EnvOption): Setting | undefined {
  return def.fallback === undefined ? undefined : { text: def.fallback, from: `the default of --${def.name}` };
}

function isEnvOption(def: unknown): def is EnvOption {
  return typeof def === "object" && def !== null && "type" in def && def.type === "string" && "env" in def;
}

function isEnvFlag(def: unknown): def is EnvFlag {
  return typeof def === "object" && def !== null && "type" in def && def.type === "boolean" && "env" in def;
}
