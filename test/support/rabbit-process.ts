/**
 * The OS side of throwaway RabbitMQ nodes: which process is a node's Erlang VM, and cleaning up
 * after test runs that died before their teardown.
 */
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";

export function pidFileIn(dir: string): string {
  return join(dir, "rabbitmq.pid");
}

/** Where throwaway nodes live: /tmp, not $TMPDIR, which may be private to root and closed to the rabbitmq user. */
export const NODES_DIR = "/tmp";
export const NODE_DIR_PREFIX = "fibrpc-rabbit-";
/** Holds the pid of the test process that started the node, so a later run can tell an orphan. */
export const OWNER_FILE = "owner.pid";

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Kills the nodes of test runs that died without their teardown (a runner killed by a timeout
 * leaves its brokers running, holding ~140 MB each), and removes their folders. Nodes whose test
 * process is alive, another engineer's included, are left alone.
 */
export function reapOrphans(): void {
  for (const name of readdirSync(NODES_DIR)) {
    if (!name.startsWith(NODE_DIR_PREFIX)) continue;
    const dir = join(NODES_DIR, name);
    let owner: number;
    try {
      owner = Number.parseInt(readFileSync(join(dir, OWNER_FILE), "utf8"), 10);
    } catch {
      continue; // being created, or made before owners were recorded
    }
    if (!Number.isInteger(owner) || pidAlive(owner)) continue;
    try {
      const pid = Number.parseInt(readFileSync(pidFileIn(dir), "utf8"), 10);
      if (beamAlive(pid)) process.kill(pid, "SIGKILL");
    } catch {
      // no pid file: the VM never got that far
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Whether `pid` is a live Erlang VM: a zombie (killed, not yet reaped) counts as dead, and the
 * name check keeps a recycled pid from passing for the node.
 */
export function beamAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // "pid (comm) state …"
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return stat.includes("(beam") && state !== "Z";
  } catch {
    return false;
  }
}
