/** Output that cannot be written: a closed pipe ends quietly, a full disk is one line and a documented code. */
import "../support/preflight.ts";
import { describe, expect, test } from "bun:test";
import { BROKER_URL } from "../support/broker.ts";
import { FIBRPC, serveDuringSuite } from "../support/fibrpc.ts";

/** Runs a bash pipeline with $FIBRPC and $QUEUE set; returns its stdout, fibrpc's stderr (in err) and exit code. */
async function bash(script: string, queue: string): Promise<{ stdout: string; stderr: string; code: number }> {
  const proc = Bun.spawn(["bash", "-c", script], {
    env: { ...process.env, NO_COLOR: "1", AMQP_URL: BROKER_URL, FIBRPC: FIBRPC, QUEUE: queue },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { stdout, stderr, code };
}

describe("stdout that cannot be written", () => {
  const { queue } = serveDuringSuite("output");

  test("call $(seq 1 5000) | head -1: exit 141, as coreutils under SIGPIPE, nothing on stderr", async () => {
    const result = await bash('"$FIBRPC" call $(seq 1 5000) --queue "$QUEUE" | head -1; echo "status=${PIPESTATUS[0]}"', queue);
    expect(result).toEqual({ stdout: "1\nstatus=141\n", stderr: "", code: 0 });
  });

  test.each([
    ['"$FIBRPC" call 30 --queue "$QUEUE"', 74],
    ['"$FIBRPC" bench --requests 3 --queue "$QUEUE"', 74],
    ['"$FIBRPC" --version', 74],
    ['"$FIBRPC" health --queue "$QUEUE"', 3],
  ])("%s >/dev/full: one line on stderr, exit %d", async (command, code) => {
    const result = await bash(`${command} >/dev/full`, queue);
    expect(result).toEqual({ stdout: "", stderr: "fibrpc: cannot write to stdout: ENOSPC\n", code });
  });
});
