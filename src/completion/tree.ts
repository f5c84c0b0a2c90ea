/**
 * What `fibrpc complete` answers from: the citty command tree turned into @bomb.sh/tab's model by
 * its citty adapter, plus what the adapter cannot know by itself (which options take a value, their
 * fixed choices, the `--no-` spelling of flags that default to on).
 */
import type { ArgumentHandler, Complete, OptionHandler, RootCommand } from "@bomb.sh/tab";
import tab from "@bomb.sh/tab/citty";
import type { ArgDef, ArgsDef, CommandDef, SubCommandsDef } from "citty";

type CompletionConfig = NonNullable<Parameters<typeof tab>[1]>;
type Resolvable<T> = T | Promise<T> | (() => T) | (() => Promise<T>);

async function resolve<T>(value: Resolvable<T>): Promise<T> {
  return typeof value === "function" ? await (value as () => T | Promise<T>)() : await value;
}

/** The fixed values an argument takes: citty's `enum` options, or the `choices` of our env-backed options. */
export function choicesOf(def: ArgDef): readonly string[] | undefined {
  const values = "options" in def ? def.options : "choices" in def ? def.choices : undefined;
  return Array.isArray(values) && values.every((value) => typeof value === "string") ? values : undefined;
}

/** A boolean flag that is on unless turned off, so `--no-<name>` is the spelling users type. */
function defaultsToOn(def: ArgDef): boolean {
  return def.type === "boolean" && (def.default === true || ("fallback" in def && def.fallback === true));
}

/** A tab handler (option or positional) that offers `values`; none for free text. */
function offer(values: readonly string[] | undefined): (this: unknown, complete: Complete) => void {
  return function (complete) {
    for (const value of values ?? []) complete(value, "");
  };
}

/**
 * tab registers an option as a boolean flag unless it is given a handler, and then offers
 * subcommands after it instead of its value: every option that takes a value gets one, empty
 * when the value is free text (a queue name, a URL).
 */
function configFor(args: ArgsDef, positionalChoices: Record<string, readonly string[]>): CompletionConfig {
  const options: Record<string, OptionHandler> = {};
  const positionals: Record<string, ArgumentHandler> = {};
  for (const [name, def] of Object.entries(args)) {
    if (def.type === "boolean") continue;
    if (def.type === "positional") {
      if (positionalChoices[name] !== undefined) positionals[name] = offer(positionalChoices[name]);
      continue;
    }
    options[name] = offer(choicesOf(def));
  }
  return { options, args: positionals };
}

async function argsOf(command: CommandDef): Promise<ArgsDef> {
  return (await resolve<ArgsDef | undefined>(command.args as Resolvable<ArgsDef | undefined>)) ?? {};
}

/**
 * Builds the completion model of `root`'s visible subcommands (hidden ones, like `complete`
 * itself, are left out). `positionalChoices` gives the fixed values of positional arguments,
 * by command and argument name (citty has no choices for positionals).
 */
export async function completionTree(root: CommandDef, positionalChoices: Record<string, Record<string, readonly string[]>> = {}): Promise<RootCommand> {
  const meta = await resolve(root.meta ?? {});
  const all = (await resolve<SubCommandsDef | undefined>(root.subCommands as Resolvable<SubCommandsDef | undefined>)) ?? {};
  const visible: Record<string, CommandDef> = {};
  const config: Record<string, CompletionConfig> = {};
  const argsByCommand: Record<string, ArgsDef> = {};
  for (const [name, loader] of Object.entries(all)) {
    const command = await resolve<CommandDef>(loader as Resolvable<CommandDef>);
    if ((await resolve(command.meta ?? {})).hidden) continue;
    visible[name] = command;
    argsByCommand[name] = await argsOf(command);
    config[name] = configFor(argsByCommand[name], positionalChoices[name] ?? {});
  }
  // The adapter adds its own `complete` subcommand to the tree it is given: give it a copy.
  const completion = await tab({ meta, subCommands: visible }, { subCommands: config });
  // Every command, and fibrpc itself, answers --help (cli.ts handles it before citty sees the flags).
  completion.option("help", "Show help").option("version", "Show the version");
  for (const [name, args] of Object.entries(argsByCommand)) {
    const command = completion.commands.get(name);
    if (command === undefined) continue;
    command.option("help", "Show this command's help");
    for (const [flag, def] of Object.entries(args)) {
      // tab 0.0.22's adapter also lists positional arguments as options (`call --n`): take them back out.
      if (def.type === "positional") command.options.delete(flag);
      if (defaultsToOn(def)) command.option(`no-${flag}`, `Turn off --${flag}`);
    }
  }
  return completion;
}
