#!/usr/bin/env bun
/**
 * Entry point: picks the subcommand, runs it, and turns what it returned or threw into an
 * exit code and at most one line, by the command's failure convention. The only place that exits.
 */
import { defineCommand, renderUsage, runCommand, type ArgsDef, type CommandDef, type CommandMeta } from "citty";
import { URL_ENV } from "./config.ts";
import { FibrpcError, UsageError } from "./errors.ts";
import { BENCH_EXIT_CODES_HELP, CALL_EXIT_CODES_HELP, EXIT, EXIT_BY_SIGNAL, SERVE_EXIT_CODES_HELP } from "./exit-codes.ts";
import { COMMIT, VERSION } from "./version.ts";
import { checkArgv, type ArgvProblem } from "./cli/argv.ts";
import { stackTracesWanted } from "./cli/debug.ts";
import { describeFailure, STANDARD_FAILURES, type FailureConvention } from "./cli/failure.ts";
import { ignoreStderrErrors, writeStderrLine, writeStdout } from "./cli/output.ts";
import { argvSecretSources, rememberSecretSources } from "./cli/secrets.ts";
import { installSignalHandlers } from "./cli/signals.ts";
import { clip } from "./text.ts";

/** What the entry point needs of a command, whatever the types of its flags. */
interface LoadedCommand {
  meta(): Promise<CommandMeta>;
  args(): Promise<ArgsDef>;
  usage(): Promise<string>;
  run(rawArgs: string[]): Promise<unknown>;
  readonly failures: FailureConvention;
  /** The citty definition itself, its flag types widened: for the completion scripts, which read the whole tree. */
  readonly def: CommandDef;
}

/** Wraps a command so that citty's calls are checked against its own flag types, not a widened one. */
function loaded<T extends ArgsDef>(def: CommandDef<T>, failures: FailureConvention = STANDARD_FAILURES): LoadedCommand {
  return {
    meta: async () => (typeof def.meta === "function" ? await def.meta() : await def.meta) ?? {},
    args: async () => (typeof def.args === "function" ? await def.args() : await def.args) ?? {},
    usage: () => renderUsage(def, { meta: ROOT_META }),
    run: async (rawArgs) => (await runCommand(def, { rawArgs })).result,
    failures,
    def: def as unknown as CommandDef,
  };
}

// Loaded lazily so that `fibrpc call` never parses the worker's code, and the reverse.
const commands = {
  serve: () => import("./commands/serve.ts").then((module) => loaded(module.default)),
  call: () => import("./commands/call.ts").then((module) => loaded(module.default)),
  health: () => import("./commands/health.ts").then((module) => loaded(module.default, module.failures)),
  bench: () => import("./commands/bench.ts").then((module) => loaded(module.default)),
  completion: () => import("./commands/completion.ts").then((module) => loaded(module.default)),
  // Hidden: run by the completion scripts at every TAB; answers from the tree of the commands above.
  complete: () => import("./commands/complete.ts").then((module) => loaded(module.completeCommand(completionTree()))),
} satisfies Record<string, () => Promise<LoadedCommand>>;

type CommandName = keyof typeof commands;

function isCommandName(name: string | undefined): name is CommandName {
  return name !== undefined && Object.hasOwn(commands, name);
}

// Help texts load with their command only when needed: never on the path of a call.
const HELP_EPILOGUES: Record<CommandName, () => Promise<string>> = {
  serve: async () => SERVE_EXIT_CODES_HELP,
  call: async () => CALL_EXIT_CODES_HELP,
  health: () => import("./health/states.ts").then((module) => module.HEALTH_STATES_HELP),
  bench: async () => BENCH_EXIT_CODES_HELP,
  completion: async () => "",
  complete: async () => "",
};

const ROOT_META: CommandMeta = {
  name: "fibrpc",
  version: VERSION,
  description: "Request/reply RPC over RabbitMQ: a Fibonacci worker, its client, a health check and a load generator",
};

// For `fibrpc --help`, which lists each command with its description (citty leaves out hidden ones).
const root = defineCommand({
  meta: ROOT_META,
  subCommands: Object.fromEntries(Object.entries(commands).map(([name, load]) => [name, async () => ({ meta: await (await load()).meta() })])),
});

/** The whole command tree, flags included, for the completion scripts; each command still loads only when asked for. */
function completionTree(): CommandDef {
  return defineCommand({
    meta: ROOT_META,
    subCommands: Object.fromEntries(Object.entries(commands).map(([name, load]) => [name, async () => (await load()).def])),
  });
}

/** The command being run and its arguments as far as they were read, for reporting a failure its way. */
let running: { failures: FailureConvention; rawArgs: readonly string[] } = { failures: STANDARD_FAILURES, rawArgs: [] };

async function main(rawArgs: string[]): Promise<number> {
  const [name, ...rest] = rawArgs;
  if (name === "--version" || name === "-v") {
    await writeStdout(`fibrpc ${VERSION} (${COMMIT})\n`);
    return EXIT.ok;
  }
  if (!isCommandName(name)) {
    const wantsHelp = name === undefined || name === "--help" || name === "-h" || name === "help";
    await printHelp(await renderUsage(root));
    if (wantsHelp) return EXIT.ok;
    throw new UsageError(`unknown command '${clip(name)}'`);
  }
  const command = await commands[name]();
  running = { failures: command.failures, rawArgs: rest };
  if (wantsHelp(rest)) {
    await printHelp(await command.usage(), await HELP_EPILOGUES[name]());
    return EXIT.ok;
  }
  const checked = checkArgv(rest, await command.args());
  if (!checked.ok) throw new UsageError(`${describeProblem(checked.problem, name)} (see 'fibrpc ${name} --help')`);
  running = { failures: command.failures, rawArgs: checked.args };
  const result = await command.run(checked.args);
  return typeof result === "number" ? result : EXIT.ok;
}

function describeProblem(problem: ArgvProblem, command: string): string {
  switch (problem.kind) {
    case "unknown":
      return `unknown option '${clip(problem.flag)}' for '${command}'`;
    case "missing-value":
      return `option '${problem.flag}' needs a value`;
    case "empty-value":
      return `option '${problem.flag}' is empty: give it a value or leave it out`;
    case "bad-boolean":
      return `${problem.flag} takes no value, or one of 1/0, true/false, yes/no, on/off; got '${clip(problem.value)}'`;
    case "negation-with-value":
      return `${problem.flag} takes no value`;
    case "unexpected-argument":
      return `unexpected argument '${clip(problem.value)}': 'fibrpc ${command}' takes no arguments`;
  }
}

function wantsHelp(args: readonly string[]): boolean {
  const end = args.indexOf("--");
  return (end === -1 ? args : args.slice(0, end)).some((arg) => arg === "--help" || arg === "-h");
}

async function printHelp(usage: string, epilogue?: string): Promise<void> {
  const text = `${usage}\n${epilogue ? `\n${epilogue}\n` : ""}`;
  const plain = Boolean(process.env.NO_COLOR) || !process.stdout.isTTY;
  // citty pads every option line to the longest one; the trailing blanks only wrap narrow terminals.
  await writeStdout((plain ? stripAnsi(text) : text).replace(/[ \t]+$/gm, ""));
}

function stripAnsi(text: string): string {
  return text.replace(/\u001b\[[0-9;]*m/g, "");
}

/** citty reports its own parse errors (missing argument, bad enum value) as CLIError: usage. */
function isCittyUsageError(error: unknown): error is Error {
  return error instanceof Error && error.name === "CLIError";
}

async function fail(error: unknown): Promise<number> {
  const failure = isCittyUsageError(error) ? new UsageError(stripAnsi(error.message)) : error;
  const { failures, rawArgs } = running;
  // A reader that went away (`| head -1`) is no failure to tell anyone about.
  if (!(failure instanceof FibrpcError && failure.kind === "output-closed")) {
    const { message, details } = describeFailure(failure, stackTracesWanted());
    await failures.report(failure, message, { rawArgs, env: process.env });
    for (const line of details) await writeStderrLine(line);
  }
  return failures.exitCode(failure);
}

ignoreStderrErrors();
rememberSecretSources([...argvSecretSources(process.argv.slice(2)), process.env[URL_ENV]]);
installSignalHandlers((signal) => process.exit(EXIT_BY_SIGNAL[signal]));

let code: number;
try {
  code = await main(process.argv.slice(2));
} catch (error) {
  code = await fail(error);
}
process.exit(code);
