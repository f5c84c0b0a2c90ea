/**
 * Real shells completing a command line the way a user's TAB does, with `fibrpc` on PATH (the
 * compiled binary, by that name) and its completion installed by the README's line for that shell
 * (run with HOME in a folder of the test's own):
 *   - bash and zsh run interactively on a pseudo-terminal (Bun.Terminal): the test types the line
 *     and a TAB, so readline/zle, bash-completion's helpers and zsh's compinit do what they do for
 *     a user. A thin wrapper around the script's completion function writes what it produced (bash:
 *     COMPREPLY; zsh: every word given to compadd that matched) to a numbered file, which the test
 *     waits for: no screen scraping.
 *   - fish answers `complete -C '<line>'` with its own completion machinery, no terminal needed.
 * The results are the candidates the shell would list: without descriptions, filtered by the shell.
 */
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { FIBRPC } from "./fibrpc.ts";

export type ShellName = "bash" | "zsh" | "fish";

export interface CompletingShell {
  readonly name: ShellName;
  /** The candidates for the end of `line` (which may end in a space: then the next word is completed). */
  complete(line: string): Promise<string[]>;
  close(): Promise<void>;
}

export const BASH_COMPLETION = "/usr/share/bash-completion/bash_completion";

/** What is missing to drive `shell` here, or undefined; scripts/test-env.sh installs all of it. */
export function missingFor(shell: ShellName): string | undefined {
  if (Bun.which(shell) === null) return `${shell} is not installed (scripts/test-env.sh installs it)`;
  if (shell === "bash" && !existsSync(BASH_COMPLETION)) return "bash-completion is not installed (scripts/test-env.sh installs it)";
  return undefined;
}

/**
 * The README's install line for `shell`: in the ```sh block under "Shell completion", the line
 * after the comment that starts with `# <shell>`.
 */
export function readmeInstallLine(shell: ShellName): string {
  const readme = readFileSync(resolve(import.meta.dir, "../../README.md"), "utf8");
  const section = readme.slice(readme.indexOf("### Shell completion"));
  const block = /```sh\n([\s\S]*?)\n```/.exec(section)?.[1] ?? "";
  const lines = block.split("\n");
  const line = lines[lines.findIndex((text) => text.startsWith(`# ${shell}`)) + 1];
  if (line === undefined || line.startsWith("#")) throw new Error(`README.md has no install line for ${shell} under 'Shell completion'`);
  return line;
}

/** Runs the README's install line as the user of `env` would, in a POSIX shell. */
function install(shell: ShellName, env: Record<string, string>, dir: string): void {
  const result = Bun.spawnSync(["/bin/sh", "-c", readmeInstallLine(shell)], { env, cwd: dir, stderr: "pipe" });
  if (!result.success) throw new Error(`README's ${shell} install line failed: ${result.stderr.toString()}`);
}

/** A folder holding `fibrpc` (the binary under test), used as HOME. */
function workspace(): { dir: string; env: Record<string, string> } {
  const dir = mkdtempSync("/tmp/fibrpc-completion-");
  symlinkSync(FIBRPC, join(dir, "fibrpc"));
  const env: Record<string, string> = {
    PATH: `${dir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
    HOME: dir,
    XDG_CONFIG_HOME: join(dir, ".config"),
    XDG_DATA_HOME: join(dir, ".local/share"),
    TERM: "dumb",
    NO_COLOR: "1",
    LANG: "C.UTF-8",
  };
  return { dir, env };
}

async function waitForFile(path: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (existsSync(path)) return true;
    await Bun.sleep(20);
  }
  return existsSync(path);
}

/**
 * bash: bash-completion, which finds the installed script in the user's completions folder (the
 * loader its first TAB on `fibrpc` runs, called up front), then the wrapper that records COMPREPLY.
 */
function bashStartup(dir: string): string[] {
  return [
    `. ${BASH_COMPLETION}`,
    "__load_completion fibrpc || echo 'bash-completion did not find the fibrpc script' >&2",
    'registered=$(complete -p fibrpc | sed -E "s/.* -F ([^ ]+) .*/\\1/")',
    "__capture_n=0",
    "__capture() {",
    '  "$registered" "$@"; local rc=$?',
    "  __capture_n=$((__capture_n + 1))",
    `  printf '%s\\n' "\${COMPREPLY[@]}" > "${dir}/out.tmp" && mv "${dir}/out.tmp" "${dir}/$__capture_n"`,
    "  return $rc",
    "}",
    "complete -F __capture fibrpc",
    "PS1='$ '",
  ];
}

/** zsh: compinit, before the README's line appends its own; then the recording wrappers. */
const ZSH_BEFORE = ["bindkey -e", "autoload -Uz compinit && compinit -u -D"];

/** zsh, after the README's line: compadd records what matched, the compdef'd function is wrapped. */
function zshStartup(dir: string): string[] {
  return [
    "registered=${_comps[fibrpc]}",
    "typeset -gi __capture_n=0",
    "compadd() {",
    // Calls that only query (-O, -A, -D) are the completion system's own bookkeeping: pass them on.
    '  if (( ${@[(I)-[OAD]]} )); then builtin compadd "$@"; return; fi',
    "  local -a matched",
    '  builtin compadd -O matched "$@"',
    `  (( \${#matched} )) && print -rl -- "\${matched[@]}" >> "${dir}/out.tmp"`,
    '  builtin compadd "$@"',
    "}",
    "__capture() {",
    `  : > "${dir}/out.tmp"`,
    '  "$registered" "$@"; local rc=$?', // not `status`: read-only in zsh
    "  __capture_n+=1",
    `  mv "${dir}/out.tmp" "${dir}/$__capture_n"`,
    "  return $rc",
    "}",
    "compdef __capture fibrpc",
    "PS1='$ '",
  ];
}

/** An interactive bash or zsh on a pseudo-terminal. */
class TerminalShell implements CompletingShell {
  private asked = 0;
  private screen = "";

  private constructor(
    readonly name: "bash" | "zsh",
    private readonly dir: string,
    private readonly terminal: Bun.Terminal,
    private readonly proc: Bun.Subprocess,
  ) {}

  static start(name: "bash" | "zsh"): TerminalShell {
    const { dir, env } = workspace();
    let shell: TerminalShell | undefined;
    const terminal = new Bun.Terminal({
      cols: 250,
      rows: 50,
      data: (_terminal, data) => shell?.record(data),
    });
    let argv: string[];
    if (name === "bash") {
      install("bash", env, dir);
      writeFileSync(join(dir, ".bashrc"), `${bashStartup(dir).join("\n")}\n`);
      argv = ["bash", "--noprofile", "--rcfile", join(dir, ".bashrc"), "-i"];
    } else {
      env.ZDOTDIR = dir;
      writeFileSync(join(dir, ".zshrc"), `${ZSH_BEFORE.join("\n")}\n`);
      install("zsh", env, dir);
      appendFileSync(join(dir, ".zshrc"), `${zshStartup(dir).join("\n")}\n`);
      argv = ["zsh", "-i"];
    }
    const proc = Bun.spawn(argv, { terminal, env, cwd: dir });
    shell = new TerminalShell(name, dir, terminal, proc);
    return shell;
  }

  private record(data: Uint8Array): void {
    this.screen = (this.screen + new TextDecoder().decode(data)).slice(-4000);
  }

  async complete(line: string): Promise<string[]> {
    this.asked += 1;
    // Ctrl-U clears whatever the previous completion left on the line; then the line and a TAB.
    this.terminal.write(`\x15${line}\t`);
    const result = join(this.dir, String(this.asked));
    if (!(await waitForFile(result, 15_000))) {
      throw new Error(`${this.name} produced no completion for '${line}'; the terminal shows:\n${this.screen}`);
    }
    return readFileSync(result, "utf8")
      .split("\n")
      .filter((word) => word !== "");
  }

  async close(): Promise<void> {
    this.terminal.write("\x15exit\n");
    const exited = await Promise.race([this.proc.exited, Bun.sleep(5000).then(() => undefined)]);
    if (exited === undefined) this.proc.kill("SIGKILL");
    this.terminal.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** fish: `complete -C` runs fish's completion for a line; fish autoloads the installed script. */
class FishShell implements CompletingShell {
  readonly name = "fish";
  private readonly workspace = workspace();

  constructor() {
    install("fish", this.workspace.env, this.workspace.dir);
  }

  async complete(line: string): Promise<string[]> {
    // No --no-config: that would also skip the user's completions folder. HOME is the test's own.
    const proc = Bun.spawn(["fish", "-c", `complete -C ${fishQuote(line)}`], {
      env: this.workspace.env,
      cwd: this.workspace.dir,
      stdout: "pipe",
      stderr: "pipe",
    });
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    if (code !== 0 || stderr !== "") throw new Error(`fish exited ${code} for '${line}': ${stderr}`);
    // Each line is `candidate<TAB>description`.
    return stdout
      .split("\n")
      .filter((entry) => entry !== "")
      .map((entry) => entry.split("\t")[0] ?? "");
  }

  async close(): Promise<void> {
    rmSync(this.workspace.dir, { recursive: true, force: true });
  }
}

function fishQuote(text: string): string {
  return `'${text.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
}

export function startShell(name: ShellName): CompletingShell {
  return name === "fish" ? new FishShell() : TerminalShell.start(name);
}
