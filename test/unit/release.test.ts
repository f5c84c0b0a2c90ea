import { describe, expect, test } from "bun:test";
import pkg from "../../package.json" with { type: "json" };
import { archiveEntries, archiveFileName, RELEASE_TARGETS, releaseFileName, sha256sumsText, sizesTable, type PublishedFile } from "../../scripts/release.ts";

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

  test("archives are fibrpc-<version>-<platform>.tar.gz, .zip on Windows", () => {
    expect(RELEASE_TARGETS.map((target) => archiveFileName(target, "1.2.3"))).toEqual([
      "fibrpc-1.2.3-linux-x64.tar.gz",
      "fibrpc-1.2.3-linux-x64-baseline.tar.gz",
      "fibrpc-1.2.3-linux-arm64.tar.gz",
      "fibrpc-1.2.3-linux-x64-musl.tar.gz",
      "fibrpc-1.2.3-darwin-x64.tar.gz",
      "fibrpc-1.2.3-darwin-arm64.tar.gz",
      "fibrpc-1.2.3-windows-x64.zip",
    ]);
  });

  test("an archive holds one folder: the binary (0755), README, LICENSE and the three completion scripts", () => {
    const bytes = (text: string) => new TextEncoder().encode(text);
    const files = { binary: bytes("bin"), readme: bytes("r"), license: bytes("l"), completions: { bash: bytes("b"), zsh: bytes("z"), fish: bytes("f") } };
    const layout = (target: (typeof RELEASE_TARGETS)[number]) => archiveEntries(target, files).map(({ path, mode }) => `${mode.toString(8)} ${path}`);
    const root = `fibrpc-${pkg.version}-linux-arm64`;
    expect(layout("bun-linux-arm64")).toEqual([
      `755 ${root}/`,
      `755 ${root}/fibrpc`,
      `644 ${root}/README.md`,
      `644 ${root}/LICENSE`,
      `755 ${root}/completions/`,
      `644 ${root}/completions/fibrpc.bash`,
      `644 ${root}/completions/_fibrpc`,
      `644 ${root}/completions/fibrpc.fish`,
    ]);
    expect(layout("bun-windows-x64")[1]).toBe(`755 fibrpc-${pkg.version}-windows-x64/fibrpc.exe`);
  });

  test("sha256sums.txt lines are '<hash>  <file>' as sha256sum -c expects", () => {
    expect(
      sha256sumsText([
        { file: "a", sha256: "00ff" },
        { file: "b.exe", sha256: "ab" },
      ]),
    ).toBe("00ff  a\nab  b.exe\n");
  });

  test("the sizes table puts each archive beside its binary", () => {
    const files: PublishedFile[] = RELEASE_TARGETS.flatMap((target) => [
      { file: releaseFileName(target), sha256: "", bytes: 100_000_000 },
      { file: archiveFileName(target), sha256: "", bytes: 48_000_000 },
    ]);
    const lines = sizesTable(files).split("\n");
    expect(lines.slice(0, 3)).toEqual(["| Platform | Binary | Archive | Archive / binary |", "|---|---|---|---|", "| linux-x64 | 100.0 MB | 48.0 MB | 48% |"]);
    expect(lines).toHaveLength(2 + RELEASE_TARGETS.length);
  });
});
