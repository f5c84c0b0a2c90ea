import { defineCommand, type CommandDef } from "citty";
import { UsageError } from "../errors.ts";
import { SHELLS } from "../completion/shells.ts";
import { completionTree } from "../completion/tree.ts";

/**
 * `fibrpc complete -- <words>`: what the completion scripts run at every TAB (the protocol of
 * @bomb.sh/tab): prints one `candidate<TAB>description` per line, then `:<directive>`. Hidden from
 * --help; it takes the root command so that it answers from the same tree the CLI dispatches on.
 */
export function completeCommand(root: CommandDef) {
  return defineCommand({
    meta: { name: "complete", description: "Answer a completion script (internal)", hidden: true },
    // The words of the line being completed, after `--`: flags among them are not complete's own.
    args: { words: { type: "positional", description: "The words of the command line being completed", required: false } },
    async run({ rawArgs }) {
      if (rawArgs[0] !== "--") throw new UsageError("complete is run by the completion scripts: fibrpc complete -- <words>");
      const tree = await completionTree(root, { completion: { shell: SHELLS } });
      tree.parse(rawArgs.slice(1));
    },
  });
}
