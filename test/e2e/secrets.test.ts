/**
 * No password from a URL-ish input reaches any output, whatever shape the input has: a sample
 * of the shapes test/unit/secrets-property.test.ts generates, given to each command by flag and
 * by variable, on the built binary. health writes its failure to stdout (its status line).
 */
import "../support/preflight.ts";
import { describe, expect, test } from "bun:test";
import { runFibrpc } from "../support/fibrpc.ts";

const MARKER = "Mk7SecretPw";
const MALFORMED = [
  `u:${MARKER}@127.0.0.1:5672`, // the scheme left out
  `amqp//u:${MARKER}@127.0.0.1`, // a colon missing
  `amqp:/u:${MARKER}@127.0.0.1`, // a slash missing
  `u:${MARKER}`, // no host at all
  `amqp://u:${MARKER}@host:99999`, // a port that is none
  `amqp://u:p@${MARKER}@127.0.0.1:1?heartbeat=abc`, // an '@' in the password, a bad query
  `http://u:${MARKER}@127.0.0.1/`, // the wrong scheme
];
const COMMANDS = [["serve"], ["call", "30"], ["health"], ["bench", "--requests", "1"]];

describe("a malformed URL: bad usage, the password in no output", () => {
  for (const command of COMMANDS) {
    test(`fibrpc ${command[0]}`, async () => {
      for (const url of MALFORMED) {
        for (const [args, env] of [
          [["--url", url], { AMQP_URL: undefined }],
          [[], { AMQP_URL: url }],
        ] as const) {
          const result = await runFibrpc([...command, ...args], { env });
          const where = { command: command[0], url, by: args.length > 0 ? "flag" : "env" };
          expect({ ...where, code: result.code }).toEqual({ ...where, code: command[0] === "health" ? 3 : 2 });
          expect({ ...where, leaked: `${result.stdout}${result.stderr}`.includes(MARKER) }).toEqual({ ...where, leaked: false });
          if (command[0] === "health") expect(result.stdout).toStartWith("FIBRPC UNKNOWN - ");
        }
      }
    });
  }
});

describe("a well-formed URL that cannot connect: the password in no output either", () => {
  for (const command of [["call", "30"], ["health"], ["bench", "--requests", "1"]]) {
    test(`fibrpc ${command[0]}`, async () => {
      for (const url of [`amqp://u:${MARKER}@127.0.0.1:1`, `amqp://u:${MARKER}@no-such-host.invalid`, `amqp://u:p%40${MARKER}@127.0.0.1:1`]) {
        const result = await runFibrpc([...command], { env: { AMQP_URL: url } });
        expect({ url, code: result.code }).toEqual({ url, code: command[0] === "health" ? 2 : 5 });
        expect(`${result.stdout}${result.stderr}`).not.toContain(MARKER);
        expect(`${result.stdout}${result.stderr}`).toContain("u:***@");
      }
    });
  }
});
