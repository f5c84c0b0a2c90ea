import { describe, expect, test } from "bun:test";
import { PASSWORD_ON_COMMAND_LINE_WARNING, passwordOnCommandLine, resolveBrokerUrls, type ReadText } from "../../src/cli/broker-urls.ts";
import { UsageError } from "../../src/errors.ts";

const files: Record<string, string> = {
  "/run/secrets/one": "amqp://app:FileS3cret@rabbit-1:5672\n",
  "/run/secrets/cluster": "amqp://a:x1@n1, amqp://b:x2@n2\namqp://c:x3@n3\n",
  "/run/secrets/empty": "\n",
  "/run/secrets/bad": "amqp://app:FileS3cret@rabbit-1:5672\nhttp://app:FileS3cret@oops\n",
};
const readText: ReadText = (path) => {
  const content = files[path];
  if (content === undefined) throw Object.assign(new Error(`ENOENT: no such file, open '${path}'`), { code: "ENOENT" });
  return content;
};
const resolve = (flags: string[], flagFile: string | undefined, env: Record<string, string>) => resolveBrokerUrls({ flags, flagFile, env }, readText);

describe("where the broker URLs come from: --url > --url-file > AMQP_URL_FILE > AMQP_URL > default", () => {
  const env = { AMQP_URL: "amqp://env-host" };

  test("each level wins over the ones after it", () => {
    expect(resolve(["amqp://flag-host"], undefined, { ...env, AMQP_URL_FILE: "/run/secrets/one" }).urls).toEqual(["amqp://flag-host"]);
    expect(resolve([], "/run/secrets/one", env).urls).toEqual(["amqp://app:FileS3cret@rabbit-1:5672"]);
    expect(resolve([], undefined, { AMQP_URL_FILE: "/run/secrets/one" }).urls).toEqual(["amqp://app:FileS3cret@rabbit-1:5672"]);
    expect(resolve([], undefined, env).urls).toEqual(["amqp://env-host"]);
    expect(resolve([], undefined, {})).toEqual({ urls: ["amqp://guest:guest@localhost:5672"], from: "the default URL", sources: [] });
  });

  test("a list: --url repeated, commas or whitespace in AMQP_URL, several lines in a file", () => {
    expect(resolve(["amqp://n1", "amqp://n2,amqp://n3"], undefined, {}).urls).toEqual(["amqp://n1", "amqp://n2", "amqp://n3"]);
    expect(resolve([], undefined, { AMQP_URL: " amqp://n1 , amqp://n2\tamqp://n3\n" }).urls).toEqual(["amqp://n1", "amqp://n2", "amqp://n3"]);
    expect(resolve([], "/run/secrets/cluster", {}).urls).toEqual(["amqp://a:x1@n1", "amqp://b:x2@n2", "amqp://c:x3@n3"]);
  });

  test("a file's content is remembered for scrubbing from every output", () => {
    expect(resolve([], "/run/secrets/one", {}).sources).toEqual(["amqp://app:FileS3cret@rabbit-1:5672\n"]);
  });

  test("given both ways on one level is refused", () => {
    expect(() => resolve(["amqp://a"], "/run/secrets/one", {})).toThrow("give --url or --url-file, not both");
    expect(() => resolve([], undefined, { AMQP_URL: "amqp://a", AMQP_URL_FILE: "/run/secrets/one" })).toThrow("AMQP_URL and AMQP_URL_FILE are both set");
  });

  test("a missing, unreadable or empty file names the path and never echoes content", () => {
    expect(() => resolve([], "/nope", {})).toThrow("cannot read the URL file '/nope' (--url-file): ENOENT");
    expect(() => resolve([], undefined, { AMQP_URL_FILE: "/nope" })).toThrow("cannot read the URL file '/nope' (AMQP_URL_FILE): ENOENT");
    const denied: ReadText = () => {
      throw Object.assign(new Error("EACCES"), { code: "EACCES" });
    };
    expect(() => resolveBrokerUrls({ flags: [], flagFile: "/root/url", env: {} }, denied)).toThrow("(--url-file): EACCES");
    expect(() => resolve([], "/run/secrets/empty", {})).toThrow("holds no URL");
  });

  test("every URL is checked, the message says which, its password hidden", () => {
    let message = "";
    try {
      resolve([], "/run/secrets/bad", {});
    } catch (error) {
      expect(error).toBeInstanceOf(UsageError);
      message = (error as UsageError).message;
    }
    expect(message).toBe("the URL in '/run/secrets/bad' (--url-file) (URL 2 of 2) must start with amqp:// or amqps://; got 'http://app:***@oops'");
    expect(() => resolve(["amqp://ok", "amqp://u:S3cr3tXYZ@h:99999"], undefined, {})).toThrow("--url (URL 2 of 2) is not a URL: 'amqp://u:***@h:99999'");
  });

  test("an empty variable is an error naming it", () => {
    expect(() => resolve([], undefined, { AMQP_URL: "" })).toThrow("AMQP_URL is set but empty");
    expect(() => resolve([], undefined, { AMQP_URL_FILE: " " })).toThrow("AMQP_URL_FILE is set but empty");
  });
});

describe("a password on the command line", () => {
  test("warns only for --url, and not for a password equal to its user", () => {
    expect(passwordOnCommandLine(resolve(["amqp://app:s3cret@h"], undefined, {}))).toBe(true);
    expect(passwordOnCommandLine(resolve(["amqp://h", "amqp://app:s3cret@h2"], undefined, {}))).toBe(true);
    expect(passwordOnCommandLine(resolve(["amqp://guest:guest@h"], undefined, {}))).toBe(false);
    expect(passwordOnCommandLine(resolve(["amqp://app@h"], undefined, {}))).toBe(false);
    expect(passwordOnCommandLine(resolve([], undefined, { AMQP_URL: "amqp://app:s3cret@h" }))).toBe(false);
    expect(PASSWORD_ON_COMMAND_LINE_WARNING).toContain("AMQP_URL_FILE");
  });
});
