// Lint rules for bun:test that oxlint's own jest/vitest rules do not apply (they ignore files
// importing from "bun:test"), loaded through .oxlintrc.json's jsPlugins.

/** `expect(x).rejects.toThrow()`, `expect(x).resolves.not.toBe(1)`: a matcher that returns a promise. */
function isAsyncMatcherCall(node) {
  if (node.callee.type !== "MemberExpression") return false;
  let object = node.callee.object;
  let async = false;
  while (object.type === "MemberExpression") {
    if (object.property.type === "Identifier" && (object.property.name === "rejects" || object.property.name === "resolves")) async = true;
    object = object.object;
  }
  return async && object.type === "CallExpression" && object.callee.type === "Identifier" && object.callee.name === "expect";
}

/** Awaited, returned, or the body of an arrow function (which returns it). */
function isHandled(node) {
  const parent = node.parent;
  return parent.type === "AwaitExpression" || parent.type === "ReturnStatement" || (parent.type === "ArrowFunctionExpression" && parent.body === node);
}

const awaitAsyncExpect = {
  meta: {
    type: "problem",
    docs: { description: "An expect(...).rejects/.resolves assertion must be awaited or returned" },
    messages: {
      notAwaited:
        "This assertion is a promise: without `await` (or `return`) the test ends before it runs and passes whatever happens. " +
        "(bun-types type it as void, so no type-aware rule sees it.)",
    },
  },
  create(context) {
    return {
      CallExpression(node) {
        if (isAsyncMatcherCall(node) && !isHandled(node)) context.report({ node, messageId: "notAwaited" });
      },
    };
  },
};

export default {
  meta: { name: "bun-test" },
  rules: { "await-async-expect": awaitAsyncExpect },
};
