import { defineCommand } from "citty";
import { UsageError } from "../errors.ts";
import { SHELLS, isShell, printCompletionScript } from "../completion/shells.ts";

export default defineCommand({
  meta: { name: "completion", description: `Print the shell completion script for ${SHELLS.join(", ")} (see the README to install it)` },
  args: {
    shell: { type: "positional", description: SHELLS.join(" | "), required: true, valueHint: SHELLS.join("|") },
  },
  run({ args }) {
    const shell = String(args.shell);
    if (!isShell(shell)) throw new UsageError(`completion: no script for '${shell}'; choose ${SHELLS.join(", ")}`);
    printCompletionScript(shell);
  },
});
