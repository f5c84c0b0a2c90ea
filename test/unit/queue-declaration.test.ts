import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { probeDeclaration } from "../../src/rpc/queue-probe.ts";
import { queueDeclaration, type QueueKind } from "../../src/rpc/queue.ts";

const SRC = resolve(import.meta.dir, "../../src");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith(".ts") ? [join(dir, entry.name)] : [],
  );
}

/**
 * RabbitMQ 4.3 refuses to declare a queue that is neither durable nor exclusive (deprecated
 * feature transient_nonexcl_queues); the 3.10 broker of the tests accepts one, so only these
 * tests can keep fibrpc from declaring it.
 */
describe("nothing fibrpc declares is transient and non-exclusive", () => {
  test("the worker's queue, of either kind, is durable", () => {
    for (const kind of ["quorum", "classic"] as const satisfies readonly QueueKind[]) {
      expect(queueDeclaration(kind)).toMatchObject({ durable: true, exclusive: false });
    }
    expect(queueDeclaration("quorum").arguments).toEqual({ "x-queue-type": "quorum" });
    // A classic queue carries no x-queue-type, as the programs sharing it declare it.
    expect(queueDeclaration("classic").arguments).toEqual({});
  });

  test("a probe of an existing queue can never create a transient one: it carries an argument no queue may be declared with", () => {
    for (const guarded of [true, false]) {
      for (const autoDelete of [true, false]) {
        const declaration = probeDeclaration({ durable: false, autoDelete, arguments: { "x-max-length": 5 } }, guarded);
        expect(declaration.exclusive).toBe(false);
        expect(declaration.arguments["x-single-active-consumer"]).toBe("fibrpc-probe"); // not a boolean: refused as a new queue's argument
      }
    }
    expect(probeDeclaration({ durable: true, autoDelete: false, arguments: {} }, false).arguments).toEqual({});
  });

  test("every queue declare in src/ is the worker's declaration or an exclusive queue", () => {
    const declares = sourceFiles(SRC).flatMap((file) =>
      [...readFileSync(file, "utf8").matchAll(/\.assertQueue\(([^;]*?)\);?$/gm)].map((match) => ({ file, call: match[1] ?? "" })),
    );
    expect(declares.length).toBeGreaterThan(0);
    for (const { file, call } of declares) {
      const safe = /queueDeclaration\(|probeDeclaration\(/.test(call) || /exclusive:\s*true/.test(call);
      expect({ file, call, safe }).toEqual({ file, call, safe: true });
    }
  });
});
