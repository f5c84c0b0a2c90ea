#!/usr/bin/env bun
/**
 * Entry point: picks the subcommand, runs it, and turns what it returned or threw into an
 * exit code and at most one line on stderr. The only place that exits the process.
 */
import { defineCommand, renderUsage, runCommand, type ArgsDef, type CommandDef, type CommandMeta } from "citty";
import { resolveUrl } from "./config.ts";
import { scrubSecret } from "./redact.ts";
import { withHint } from "./cli/hints.ts";
import { FibrpcError } from "./errors.ts";
import { BENCH_EXIT_CODES_HELP, CALL_EXIT_CODES_HELP, EXIT, exitCodeFor, SERVE_EXIT_CODES_HELP } from "./exit-codes.ts";
import { COMMIT, VERSION } from "./version.ts";
import { installSignalHandlers } from "./cli/signals.ts";
import { findFlagProblem } from "./cli/strict-args.ts";

/** What the entry point needs of a command, whatever the types of its flags. */
interface LoadedCommand {
  meta(): Promise<CommandMeta>;
  args(): Promise<ArgsDef>;
  usage(): Promise<string>;
  run(rawArgs: string[]): Promise<unknown>;
}

/** Wraps a command so that citty's calls are checked against its own flag types, not a widened one. */
function loaded<T extends ArgsDef>(def: CommandDef<T>): LoadedCommand {
  return {
    meta: async () => (typeof def.meta === "function" ? await def.meta() : await def.meta) ?? {},
    args: async () => (typeof def.args === "function" ? await def.args() : await def.args) ?? {},
    usage: () => renderUsage(def, { meta: ROOT_META }),
    run: async (rawArgs) => (await runCommand(def, { rawArgs })).result,
  };
}

// Loaded lazily so that `fibrpc call` never parses the worker's code, and the reverse.
const commands = {
  serve: () => import("./commands/serve.ts").then((module) => loaded(module.default)),
  call: () => import("./commands/call.ts").then((module) => loaded(module.default)),
  health: () => import("./commands/health.ts").then((module) => loaded(module.default)),
  bench: () => import("./commands/bench.ts").then((module) => loaded(module.default)),
} satisfies Record<string, () => Promise<LoadedCommand>>;

type CommandName = keyof typeof commands;

function isCommandName(name: string | undefined): name is CommandName {
  return name !== undefined && Object.hasOwn(commands, name);
}


// Help texts and usage conventions load with their command only when needed: never on the path of a call.
const HELP_EPILOGUES: Record<string, () => Promise<string>> = {
  serve: async () => SERVE_EXIT_CODES_HELP,
  call: async () => CALL_EXIT_CODES_HELP,
  health: () => import("./health/states.ts").then((module) => module.HEALTH_STATES_HELP),
  bench: async () => BENCH_EXIT_CODES_HELP,
};

/**
 * Commands whose usage errors follow another convention than exit 2: `health` is a monitoring
 * plugin, for which 2 means CRITICAL; a bad flag there is UNKNOWN (3), with a status line on stdout.
 */
const USAGE_FAILURES: Record<string, { exitCode: number; statusLine: () => Promise<(message: string) => string> }> = {
  health: { exitCode: 3, statusLine: () => import("./health/format.ts").then((module) => module.formatUnknownLine) },
};

async function usageFailure(command: string | undefined, message: string): Promise<number> {
  const special = command === undefined ? undefined : USAGE_FAILURES[command];
  if (special === undefined) {
    await printError(message);
    return EXIT.usage;
  }
  const statusLine = await special.statusLine();
  await Bun.write(Bun.stdout, `${statusLine(safe(message))}\n`);
  return special.exitCode;
}

const ROOT_META: CommandMeta = {
  name: "fibrpc",
  version: VERSION,
  description: "Request/reply RPC over RabbitMQ: a Fibonacci worker, its client, a health check and a load generator",
};

// For `fibrpc --help`, which lists each command with its description.
const root = defineCommand({
  meta: ROOT_META,
  subCommands: Object.fromEntries(Object.entries(commands).map(([name, load]) => [name, async () => ({ meta: await (await load()).meta() })])),
});

async function main(rawArgs: string[]): Promise<number> {
  const [name, ...rest] = rawArgs;
  if (name === "--version" || name === "-v") {
    await Bun.write(Bun.stdout, `fibrpc ${VERSION} (${COMMIT})\n`);
    return EXIT.ok;
  }
  if (!isCommandName(name)) {
    const wantsHelp = name === undefined || name === "--help" || name === "-h" || name === "help";
    await printHelp(await renderUsage(root));
    if (wantsHelp) return EXIT.ok;
    await printError(`unknown command '${name}'`);
    return EXIT.usage;
  }
  const command = await commands[name]();
  if (wantsHelp(rest)) {
    await printHelp(await command.usage(), await HELP_EPILOGUES[name]?.());
    return EXIT.ok;
  }
  const problem = findFlagProblem(rest, await command.args());
  if (problem !== undefined) {
    const what = problem.kind === "unknown" ? `unknown option '${problem.flag}' for '${name}'` : `option '${problem.flag}' needs a value`;
    return usageFailure(name, `${what} (see 'fibrpc ${name} --help')`);
  }
  const result = await command.run(rest);
  return typeof result === "number" ? result : EXIT.ok;
}

function wantsHelp(args: readonly string[]): boolean {
  const end = args.indexOf("--");
  return (end === -1 ? args : args.slice(0, end)).some((arg) => arg === "--help" || arg === "-h");
}

async function printHelp(usage: string, epilogue?: string): Promise<void> {
  const text = `${usage}\n${epilogue ? `\n${epilogue}\n` : ""}`;
  const plain = Boolean(process.env.NO_COLOR) || !process.stdout.isTTY;
  // citty pads every option line to the longest one; the trailing blanks only wrap narrow terminals.
  await Bun.write(Bun.stdout, (plain ? stripAnsi(text) : text).replace(/[ \t]+$/gm, ""));
}

function stripAnsi(text: string): string {
  return text.replace(/\u001b\[[0-9;]*m/g, "");
}

async function printError(message: string): Promise<void> {
  await Bun.write(Bun.stderr, `fibrpc: ${safe(message)}\n`);
}

/** Whatever produced the message, a password from the URL never reaches the terminal. */
function safe(message: string): string {
  return scrubSecret(message, resolveUrl(urlFlag(process.argv), process.env));
}

function urlFlag(argv: readonly string[]): string | undefined {
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index] ?? "";
    if (arg === "--url") return argv[index + 1];
    if (arg.startsWith("--url=")) return arg.slice("--url=".length);
  }
  return undefined;
}

/** citty reports its own parse errors (missing argument, bad enum value) as CLIError: usage. */
function isCittyUsageError(error: unknown): error is Error {
  return error instanceof Error && error.name === "CLIError";
}

installSignalHandlers((signal) => process.exit(signal === "SIGINT" ? EXIT.sigint : EXIT.sigterm));

let code: number;
try {
  code = await main(process.argv.slice(2));
} catch (error) {
  if (isCittyUsageError(error)) {
    code = await usageFailure(process.argv[2], stripAnsi(error.message));
  } else if (error instanceof FibrpcError) {
    await printError(withHint(error));
    code = exitCodeFor(error);
  } else {
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    await printError(`internal error (a bug; please report it): ${detail}`);
    code = EXIT.internal;
  }
}
process.exit(code);
