/**
 * Text from a peer (an error reply's code and message, a correlation id, anything read off the
 * wire) made safe for a terminal or a log line: control characters, which a terminal would
 * obey (`ESC ]0;title BEL` retitles it, `CR` overwrites the line, a newline can forge a
 * `fibrpc:` line of its own), are shown as escapes instead. Readable text, UTF-8 included,
 * is kept as it is.
 *
 * C0 controls become `\n`, `\r`, `\t` or `\xNN`; DEL, the C1 controls, the line and paragraph
 * separators and the bidirectional overrides (which reorder what a reader sees) become `\uNNNN`.
 * A JSON line stays valid JSON: JSON.stringify has escaped every C0 control already, and
 * `\uNNNN` is JSON's own escape for the rest.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const NAMED: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

export function escapeControl(text: string): string {
  return text.replace(UNSAFE, (char) => {
    const code = char.charCodeAt(0);
    if (code < 0x20) return NAMED[char] ?? `\\x${code.toString(16).padStart(2, "0")}`;
    return `\\u${code.toString(16).padStart(4, "0")}`;
  });
}
