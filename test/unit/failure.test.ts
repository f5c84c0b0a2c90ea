import { describe, expect, test } from "bun:test";
import { describeFailure } from "../../src/cli/failure.ts";
import { stdoutError } from "../../src/cli/output.ts";
import { BrokerUnreachableError, UsageError } from "../../src/errors.ts";
import { EXIT, exitCodeFor } from "../../src/exit-codes.ts";
import { failures as healthFailures } from "../../src/commands/health.ts";

describe("a failure in words", () => {
  test("an expected failure is its message, with its hint; never a stack", () => {
    expect(describeFailure(new UsageError("bad"), true)).toEqual({ message: "bad", details: [] });
    const tls = new BrokerUnreachableError("TLS: certificate verify failed", { hint: "trust-broker-ca" });
    expect(describeFailure(tls, true).message).toBe(
      "TLS: certificate verify failed; trust the broker's CA with --ca (FIBRPC_CA), or skip the check with --insecure",
    );
  });

  test("a bug is one line saying so; its stack only when asked for", () => {
    const bug = new TypeError("x is not a function");
    expect(describeFailure(bug, false)).toEqual({
      message: "internal error (a bug; please report it): x is not a function (FIBRPC_DEBUG=1 shows where)",
      details: [],
    });
    const debug = describeFailure(bug, true);
    expect(debug.message).toBe("internal error (a bug; please report it): x is not a function");
    expect(debug.details[0]).toBe("TypeError: x is not a function");
    expect(debug.details.length).toBeGreaterThan(1);
  });
});

describe("stdout that cannot be written", () => {
  test("a closed pipe ends quietly with 141, as coreutils under SIGPIPE; any other error is 74", () => {
    const closed = stdoutError(Object.assign(new Error("EPIPE: broken pipe, write"), { code: "EPIPE" }));
    expect([closed.kind, exitCodeFor(closed)]).toEqual(["output-closed", EXIT.outputClosed]);
    expect(EXIT.outputClosed).toBe(141);
    const full = stdoutError(Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" }));
    expect([full.kind, full.message, exitCodeFor(full)]).toEqual(["output-failed", "cannot write to stdout: ENOSPC", 74]);
  });

  test("health maps them, as everything but a signal, to UNKNOWN (3)", () => {
    expect(healthFailures.exitCode(stdoutError({ code: "ENOSPC" }))).toBe(3);
    expect(healthFailures.exitCode(stdoutError({ code: "EPIPE" }))).toBe(3);
  });
});
