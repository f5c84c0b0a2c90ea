/**
 * Type-level tests: what they check happens in `npm run typecheck`, which fails when a flag's
 * parsed value stops being typed. citty types the value of a definition without a literal
 * `type` as `never`, and a `never` value type-checks against anything: the compiler would
 * silently stop checking every use of that flag.
 */
import { describe, expect, test } from "bun:test";
import type { ArgsDef, CommandDef, ParsedArgs } from "citty";
import benchCommand from "../../src/commands/bench.ts";
import callCommand from "../../src/commands/call.ts";
import healthCommand from "../../src/commands/health.ts";
import serveCommand from "../../src/commands/serve.ts";

type ArgsOf<C> = C extends CommandDef<infer T> ? T : never;
type Parsed<C> = ParsedArgs<ArgsOf<C>>;
/** The names of a command's flags whose parsed value is typed `never`. */
type NeverFlags<C> = { [K in keyof ArgsOf<C>]: [Parsed<C>[K]] extends [never] ? K : never }[keyof ArgsOf<C>];
type Commands = typeof serveCommand | typeof callCommand | typeof healthCommand | typeof benchCommand;

/** Never called: its body is checked by the compiler only. */
export function compileTimeChecks(call: Parsed<typeof callCommand>, health: Parsed<typeof healthCommand>): void {
  // Every flag of every command: no name may be left in NeverFlags (this line fails to compile otherwise).
  const noFlagIsNever: [NeverFlags<Commands>] extends [never] ? true : false = true;

  // @ts-expect-error --timeout is text or absent, not a number. Were it typed `never`, this would
  // compile, the directive would be unused, and the typecheck would fail here.
  const timeoutAsNumber: number = call.timeout;
  // @ts-expect-error --json is a boolean or absent, not text (same reasoning).
  const jsonAsText: string = call.json;
  // @ts-expect-error --probe is a boolean or absent, not a number (same reasoning).
  const probeAsNumber: number = health.probe;

  // What the readers rely on: text or undefined, boolean or undefined.
  const timeout: string | undefined = call.timeout;
  const json: boolean | undefined = call.json;
  void [noFlagIsNever, timeoutAsNumber, jsonAsText, probeAsNumber, timeout, json];
}

describe("flag definitions carry citty's literal type", () => {
  for (const command of [serveCommand, callCommand, healthCommand, benchCommand]) {
    test(String((command.meta as { name?: string } | undefined)?.name), () => {
      for (const def of Object.values(command.args as ArgsDef)) expect(["string", "boolean", "positional"]).toContain(String(def.type));
    });
  }
});
