import { escapeControl } from "../escape.ts";
import { scrubSecrets } from "../redact.ts";

/**
 * Every text a broker password may have come in (argv, AMQP_URL, the URL file's content), so
 * that whatever is shown passes through sanitize() with all of them scrubbed, however
 * malformed the input and whichever part of the program produced the message.
 */
const sources = new Set<string>();

export function rememberSecretSources(texts: Iterable<string | undefined>): void {
  for (const text of texts) if (text !== undefined && text !== "") sources.add(text);
}

/** argv words, with `--flag=` cut off so the value is read as the URL it may be. */
export function argvSecretSources(argv: readonly string[]): string[] {
  return argv.map((word) => (word.startsWith("-") && word.includes("=") ? word.slice(word.indexOf("=") + 1) : word));
}

/** A line as it may be shown: no known password in it, no control character a terminal would obey. */
export function sanitize(text: string): string {
  return escapeControl(scrubSecrets(text, [...sources]));
}
