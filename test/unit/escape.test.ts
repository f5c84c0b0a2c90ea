import { describe, expect, test } from "bun:test";
import { escapeControl } from "../../src/escape.ts";

describe("escapeControl: text from a peer, safe for a terminal or a log line", () => {
  test("an OSC title sequence and BEL are shown, not obeyed", () => {
    expect(escapeControl("\u001b]0;pwned\u0007")).toBe("\\x1b]0;pwned\\x07");
  });

  test("CSI sequences (colour, cursor, erase) are shown", () => {
    expect(escapeControl("\u001b[31mred\u001b[0m\u001b[2K")).toBe("\\x1b[31mred\\x1b[0m\\x1b[2K");
  });

  test("a newline cannot forge a line of its own, nor a carriage return overwrite one", () => {
    expect(escapeControl("oops\nfibrpc: all good")).toBe("oops\\nfibrpc: all good");
    expect(escapeControl("secret\rfibrpc: fine")).toBe("secret\\rfibrpc: fine");
    expect(escapeControl("a\tb\u0000c\u007f")).toBe("a\\tb\\x00c\\u007f");
  });

  test("C1 controls (a one-character CSI), line separators and bidirectional overrides", () => {
    expect(escapeControl("\u009b31m\u0085x\u2028y\u2029z")).toBe("\\u009b31m\\u0085x\\u2028y\\u2029z");
    expect(escapeControl("abc\u202edcba\u2066\u2069")).toBe("abc\\u202edcba\\u2066\\u2069");
  });

  test("readable text, UTF-8 included, is kept as it is", () => {
    for (const text of [
      "OUT_OF_RANGE: n=6000 is above this server's maximum of 5000",
      "café naïve Ünïcödé",
      "日本語のエラー",
      "emoji 🐇 ok",
      "\\x1b is just text",
    ]) {
      expect(escapeControl(text)).toBe(text);
    }
  });

  test("a JSON line stays valid JSON, and means the same", () => {
    const value = { code: "\u001b]0;x\u0007", message: "a\nfibrpc: b \u009b \u2028 \u007f é" };
    const line = escapeControl(JSON.stringify(value));
    expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
    expect(JSON.parse(line)).toEqual(value);
  });
});
