import { escapeControl } from "../escape.ts";
import { SecretScrubber } from "../redact.ts";

/**
 * Every text a broker password may have come in (argv, AMQP_URL, the URL file's content), so
 * that whatever is shown passes through sanitize() with all of them scrubbed, however
 * malformed the input and whichever part of the program produced the message.
 */
const scrubber = new SecretScrubber();

export function rememberSecretSources(texts: Iterable<string | undefined>): void {
  scrubber.add([...texts].filter((text): text is string => text !== undefined && text !== ""));
}

/**
 * The argv words a password may be in: every value of --url (however malformed), and any other
 * word that looks like a URL (an '@' or '://'), say one given to the wrong flag. Not every word:
 * `--rtt-critical 0.25:1s` must not make "1s" a secret.
 */
export function argvSecretSources(argv: readonly string[]): string[] {
  const sources: string[] = [];
  argv.forEach((word, index) => {
    const value = word.startsWith("-") && word.includes("=") ? word.slice(word.indexOf("=") + 1) : word;
    if (argv[index - 1] === "--url" || word.startsWith("--url=") || /@|:\/\//.test(value)) sources.push(value);
  });
  return sources;
}

/** A line as it may be shown: no known password in it, no control character a terminal would obey. */
export function sanitize(text: string): string {
  return escapeControl(scrubber.scrub(text));
}
