/**
 * The shells `fibrpc completion` writes a script for, and the script itself. @bomb.sh/tab
 * generates it; the script asks `fibrpc complete -- <words>` (src/commands/complete.ts) for the
 * candidates at every TAB, so it never goes stale when flags change.
 */
import { script } from "@bomb.sh/tab";

export const SHELLS = ["bash", "zsh", "fish"] as const;
export type Shell = (typeof SHELLS)[number];

export function isShell(name: string): name is Shell {
  return (SHELLS as readonly string[]).includes(name);
}

/**
 * Prints the completion script for `shell` on stdout. The script runs `fibrpc` by its name, found
 * on PATH: what a user installs, and the only name its `complete` registration covers (tab >= 0.0.20;
 * before, it baked in process.argv[1], a /$bunfs/ path that does not exist outside a Bun binary).
 */
export function printCompletionScript(shell: Shell): void {
  script(shell, "fibrpc", "fibrpc");
}
