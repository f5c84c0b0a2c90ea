import { describe, expect, test } from "bun:test";
import { RELEASE_TARGETS, releaseFileName, sha256sumsText } from "../../scripts/release.ts";

describe("release naming and checksums", () => {
  test("binaries are named fibrpc-<os>-<arch>[-variant], .exe on Windows", () => {
    expect(RELEASE_TARGETS.map(releaseFileName)).toEqual([
      "fibrpc-linux-x64",
      "fibrpc-linux-x64-baseline",
      "fibrpc-linux-arm64",
      "fibrpc-linux-x64-musl",
      "fibrpc-darwin-x64",
      "fibrpc-darwin-arm64",
      "fibrpc-windows-x64.exe",
    ]);
  });

  test("sha256sums.txt lines are '<hash>  <file>' as sha256sum -c expects", () => {
    expect(
      sha256sumsText([
        { file: "a", sha256: "00ff" },
        { file: "b.exe", sha256: "ab" },
      ]),
    ).toBe("00ff  a\nab  b.exe\n");
  });
});
