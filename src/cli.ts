#!/usr/bin/env bun
/**
 * Entry point: picks the subcommand, runs it, and turns what it returned or threw into an
 * exit code and at most one line on stderr. The only place that exits the process.
 */
import { defineCommand, renderUsage, runCommand, type ArgsDef, type CommandDef } from "citty";
import { scrubSecret, resolveUrl } from "./config.ts";
import { FibrpcError } from "./errors.ts";
import { BENCH_EXIT_CODES_HELP, CALL_EXIT_CODES_HELP, EXIT, exitCodeFor, SERVE_EXIT_CODES_HELP } from "./exit-codes.ts";
import { COMMIT, VERSION } from "./version.ts";
import { installSignalHandlers } from "./cli/signals.ts";
import { findFlagProblem } from "./cli/strict-args.ts";

type Loader = () => Promise<CommandDef>;

// Loaded lazily so that `fibrpc call` never parses the worker's code, and the reverse.
const commands: Record<string, Loader> = {
  serve: () => import("./commands/serve.ts").then((module) => module.default as CommandDef),
  call: () => import("./commands/call.ts").then((module) => module.default as CommandDef),
  health: () => import("./commands/health.ts").then((module) => module.default as CommandDef),
  bench: () => import("./commands/bench.ts").then((module) => module.default as CommandDef),
  completion: () => import("./commands/completion.ts").then((module) => module.default as CommandDef),
  // Hidden: run by the completion scripts at every TAB; answers from this same tree.
  complete: () => import("./commands/complete.ts").then((module) => module.completeCommand(root)),
};

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

const root = defineCommand({
  meta: { name: "fibrpc", version: VERSION, description: "Request/reply RPC over RabbitMQ: a Fibonacci worker, its client, a health check and a load generator" },
  subCommands: commands,
});

async function main(rawArgs: string[]): Promise<number> {
  const [name, ...rest] = rawArgs;
  if (name === "--version" || name === "-v") {
    await Bun.write(Bun.stdout, `fibrpc ${VERSION} (${COMMIT})\n`);
    return EXIT.ok;
  }
  const load = name === undefined ? undefined : commands[name];
  if (load === undefined || name === undefined) {
    const wantsHelp = name === undefined || name === "--help" || name === "-h" || name === "help";
    await printHelp(root);
    if (wantsHelp) return EXIT.ok;
    await printError(`unknown command '${name}'`);
    return EXIT.usage;
  }
  const command = await load();
  if (wantsHelp(rest)) {
    await printHelp(command, await HELP_EPILOGUES[name]?.());
    return EXIT.ok;
  }
  const problem = findFlagProblem(rest, await resolveArgs(command));
  if (problem !== undefined) {
    const what = problem.kind === "unknown" ? `unknown option '${problem.flag}' for '${name}'` : `option '${problem.flag}' needs a value`;
    return usageFailure(name, `${what} (see 'fibrpc ${name} --help')`);
  }
  const { result } = await runCommand(command, { rawArgs: rest });
  return typeof result === "number" ? result : EXIT.ok;
}

function wantsHelp(args: readonly string[]): boolean {
  const end = args.indexOf("--");
  return (end === -1 ? args : args.slice(0, end)).some((arg) => arg === "--help" || arg === "-h");
}

async function resolveArgs(command: CommandDef): Promise<ArgsDef> {
  const args = typeof command.args === "function" ? await command.args() : await command.args;
  return args ?? {};
}

async function printHelp(command: CommandDef, epilogue?: string): Promise<void> {
  const text = `${await renderUsage(command, command === root ? undefined : root)}\n${epilogue ? `\n${epilogue}\n` : ""}`;
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
    await printError(error.message);
    code = exitCodeFor(error);
  } else {
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    await printError(`internal error (a bug; please report it): ${detail}`);
    code = EXIT.internal;
  }
}
process.exit(code);
