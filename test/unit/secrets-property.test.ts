/**
 * Property: whatever shape a URL-ish input has (scheme or none, slashes or none, '@' or none,
 * a query, a port that is not one), the password in it never comes out of the functions that
 * turn it into text for people. Every combination of the parts below is tried.
 */
import { describe, expect, test } from "bun:test";
import { resolveBrokerUrls } from "../../src/cli/broker-urls.ts";
import { sanitize, rememberSecretSources } from "../../src/cli/secrets.ts";
import { checkBrokerUrl } from "../../src/config.ts";
import { maskUrlInput, redactUrl, scrubSecrets } from "../../src/redact.ts";

const MARKER = "Mrk9Secret";
const SCHEMES = ["", "amqp://", "amqps://", "AMQP://", "amqp:/", "amqp:", "amqp//", "//", "http://", "amqp:///", "tcp://"];
const USERS = ["u", "", "app.user", "a%20b", "u:v"];
const AROUND = [
  ["", ""],
  ["x", ""],
  ["", "%40y"],
  ["p@", ""],
  ["", "#z"],
  ["", "/w"],
  ["", "?q"],
] as const;
const AFTER = [
  "",
  "@127.0.0.1",
  "@127.0.0.1:5672",
  "@host:99999",
  "@host/vh?heartbeat=abc",
  "@host?foo=bar",
  "@@host",
  "@host@other:1",
  "@:5672",
  "@host#frag",
];

function* malformedUrls(): Generator<{ url: string; password: string }> {
  for (const scheme of SCHEMES) {
    for (const user of USERS) {
      for (const [before, after] of AROUND) {
        for (const rest of AFTER) {
          // `u:p@MARKER` is user u, password p, host MARKER to any reader: no '@' after the marker, no secret.
          if (before.includes("@") && !rest.includes("@")) continue;
          const password = `${before}${MARKER}${after}`;
          yield { url: `${scheme}${user}:${password}${rest}`, password };
        }
      }
    }
  }
}

const cases = [...malformedUrls()];

describe(`no marker password escapes, over ${cases.length} generated URL-ish inputs`, () => {
  test("redactUrl and maskUrlInput", () => {
    for (const { url } of cases) {
      expect({ url, shown: redactUrl(url) }).not.toEqual({ url, shown: expect.stringContaining(MARKER) });
      expect({ url, shown: maskUrlInput(url) }).not.toEqual({ url, shown: expect.stringContaining(MARKER) });
    }
  });

  test("checkBrokerUrl and resolveBrokerUrls: the error, when there is one", () => {
    const leaks: string[] = [];
    for (const { url } of cases) {
      for (const attempt of [
        () => checkBrokerUrl(url),
        () => resolveBrokerUrls({ flags: [url], flagFile: undefined, env: {} }),
        () => resolveBrokerUrls({ flags: [], flagFile: undefined, env: { AMQP_URL: `amqp://ok, ${url}` } }),
        () => resolveBrokerUrls({ flags: [], flagFile: "/secret", env: {} }, () => `${url}\n`),
      ]) {
        try {
          attempt();
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          if (message.includes(MARKER)) leaks.push(`${url} -> ${message}`);
        }
      }
    }
    expect(leaks).toEqual([]);
  });

  test("scrubSecrets: the URL or its password anywhere in a message (as amqplib may echo it)", () => {
    const leaks: string[] = [];
    for (const { url, password } of cases) {
      const text = `connect failed for ${url}: user rejected with password ${password} (decoded: ${decoded(password)})`;
      const scrubbed = scrubSecrets(text, [url]);
      if (scrubbed.includes(MARKER)) leaks.push(`${url} -> ${scrubbed}`);
    }
    expect(leaks).toEqual([]);
  });

  test("sanitize, the one sink every command's lines go through, scrubs what argv or the environment held", () => {
    const sample = cases.filter((_, index) => index % 25 === 0);
    rememberSecretSources(sample.map(({ url }) => url));
    const leaks = sample.map(({ url, password }) => sanitize(`bad '${url}' / ${password}`)).filter((line) => line.includes(MARKER));
    expect(leaks).toEqual([]);
  });
});

function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
