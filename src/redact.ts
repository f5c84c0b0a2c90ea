/**
 * Keeping broker passwords out of everything fibrpc shows: logs, errors, status lines.
 * Pure text functions, for the library (src/rpc) and the command line alike. They assume the
 * worst of their input: a URL given by a person may have no scheme, no slashes, an '@' in
 * its password or a stray query, and must still not be echoed with its password.
 */

const MASK = "***";

/** `amqp://`, `amqps:/`, `http://`: a scheme, when one is written with its slashes or is ours. */
const SCHEME = /^(?:[A-Za-z][A-Za-z0-9+.-]*:\/\/?|amqps?:|https?:)/i;

/** Below this length a password is only masked as a whole token: "p" must not eat every p. */
const MIN_FREE_MATCH = 4;

/**
 * The URL with its password replaced, for logs and messages: `amqp://guest:***@host:5672/vhost`.
 * Safe on any text: what a URL parser does not read as user:password@host (`u:pw@host` parses
 * as a scheme `u:` and a path) is masked by the loose reading as well.
 */
export function redactUrl(url: string): string {
  return removeAll(parsedRedaction(url) ?? maskUrlInput(url), passwordsIn(url));
}

function parsedRedaction(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.host === "") return undefined; // no authority: whatever '@' there is, the parser did not see credentials
  if (parsed.password) parsed.password = MASK;
  return parsed.toString().replace(/\/$/, "");
}

/**
 * Any URL-ish text, however malformed, with whatever may be a password masked: everything
 * between the user name and the last '@' (or, with no '@', after a colon that does not start
 * a port). `u:S3cr3t@host:5672` -> `u:***@host:5672`; `amqp//u:S3cr3t` -> `amqp//u:***`.
 */
export function maskUrlInput(text: string): string {
  const scheme = SCHEME.exec(text)?.[0] ?? "";
  const rest = text.slice(scheme.length);
  const at = rest.lastIndexOf("@");
  if (at !== -1) {
    const userinfo = rest.slice(0, at);
    const colon = userinfo.indexOf(":");
    // Without a colon the whole user part is masked: in a malformed URL it may be the password.
    const shown = colon === -1 ? MASK : `${userinfo.slice(0, colon)}:${MASK}`;
    return `${scheme}${shown}@${rest.slice(at + 1)}`;
  }
  return scheme + rest.replace(/:(?!\d*(?:[/?#]|$))[^]*$/, `:${MASK}`);
}

/**
 * Every string in a URL-ish text that may be a password: the password as a URL parser reads
 * it (raw and percent-decoded, as amqplib sends it) and as a person may have meant it in a
 * malformed one. Several URLs in one text (a list) are each looked at.
 */
export function passwordsIn(text: string): string[] {
  const found = new Set<string>();
  for (const piece of [text, ...text.split(/[\s,]+/)]) {
    if (piece === "") continue;
    let parsedHost = false;
    try {
      const { username, password, host } = new URL(piece);
      parsedHost = host !== "";
      if (password !== "" && password !== username) found.add(password).add(decoded(password));
    } catch {
      // not a URL: the loose reading below still applies
    }
    const rest = piece.slice(SCHEME.exec(piece)?.[0].length ?? 0);
    for (const candidate of looseReadings(rest, parsedHost)) found.add(candidate).add(decoded(candidate));
  }
  return [...found].filter((secret) => secret !== "");
}

/**
 * What may be a password in `rest` (a URL without its scheme) as a person may have typed it.
 * With an '@': between any ':' of the user part and any '@' after it (a user name, or a
 * password, may hold either). Without one, and no host a parser found: after any ':' that
 * does not start a port (`user:password` with the host left out).
 */
function looseReadings(rest: string, parsedHost: boolean): string[] {
  const readings: string[] = [];
  const at = rest.lastIndexOf("@");
  const positions = (char: string, text: string): number[] => [...text.matchAll(new RegExp(char, "g"))].map((match) => match.index);
  if (at !== -1) {
    const userinfo = rest.slice(0, at);
    for (const colon of positions(":", userinfo)) {
      const user = userinfo.slice(0, colon);
      for (const end of [userinfo.length, ...positions("@", userinfo).filter((index) => index > colon)]) {
        const password = userinfo.slice(colon + 1, end);
        if (password !== user) readings.push(password);
      }
    }
    return readings.filter((reading) => reading !== "");
  }
  if (parsedHost) return [];
  for (const colon of positions(":", rest)) {
    const tail = rest.slice(colon + 1);
    readings.push(tail, tail.split(/[/?#]/)[0] ?? "");
  }
  return readings.filter((reading) => reading !== "" && !/^\d+$/.test(reading));
}

/**
 * Removes every password of the given URL-ish inputs from a text before it is shown: whole
 * URLs are replaced by their redacted form, then any password left (amqplib may echo one on
 * its own, a malformed URL may be quoted) becomes `***`.
 */
export function scrubSecrets(text: string, urls: readonly string[]): string {
  return new SecretScrubber(urls).scrub(text);
}

/** One URL's password out of a text: `scrubSecrets(text, [url])`. */
export function scrubSecret(text: string, url: string): string {
  return scrubSecrets(text, [url]);
}

/** scrubSecrets with the passwords worked out once, for a sink that scrubs every line it writes. */
export class SecretScrubber {
  private readonly urls: { url: string; redacted: string }[] = [];
  private secrets: { secret: string; pattern: string | RegExp }[] = [];

  constructor(urls: Iterable<string> = []) {
    this.add(urls);
  }

  add(urls: Iterable<string>): void {
    const found = new Set(this.secrets.map(({ secret }) => secret));
    for (const url of urls) {
      if (url === "" || this.urls.some((known) => known.url === url)) continue;
      this.urls.push({ url, redacted: redactUrl(url) });
      for (const secret of passwordsIn(url)) found.add(secret);
    }
    // The longest first, so that one containing another goes whole.
    this.secrets = [...found]
      .sort((a, b) => b.length - a.length)
      .map((secret) => ({ secret, pattern: secret.length < MIN_FREE_MATCH ? wholeToken(secret) : secret }));
  }

  scrub(text: string): string {
    let result = text;
    for (const { url, redacted } of this.urls) result = result.split(url).join(redacted);
    for (const { pattern } of this.secrets) result = typeof pattern === "string" ? result.split(pattern).join(MASK) : result.replace(pattern, MASK);
    return result;
  }
}

function removeAll(text: string, secrets: readonly string[]): string {
  let result = text;
  for (const secret of [...new Set(secrets)].sort((a, b) => b.length - a.length)) {
    result = secret.length < MIN_FREE_MATCH ? result.replace(wholeToken(secret), MASK) : result.split(secret).join(MASK);
  }
  return result;
}

function wholeToken(secret: string): RegExp {
  return new RegExp(`(?<![\\w*])${secret.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?![\\w*])`, "g");
}

function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
