import { describe, expect, test } from "bun:test";
import { maskUrlInput, passwordsIn, redactUrl, scrubSecret, scrubSecrets } from "../../src/redact.ts";

describe("redactUrl and scrubSecret", () => {
  test("hide the password and keep the rest", () => {
    expect(redactUrl("amqp://bob:s3cr%40t@broker:5672/vh")).toBe("amqp://bob:***@broker:5672/vh");
    expect(redactUrl("amqp://broker")).toBe("amqp://broker");
  });

  test("scrub a password wherever it appears in a message", () => {
    const url = "amqp://bob:hunter2@broker:5672";
    expect(scrubSecret(`cannot reach ${url}: hunter2 rejected`, url)).toBe("cannot reach amqp://bob:***@broker:5672: *** rejected");
  });
});

describe("scrubSecret with awkward passwords", () => {
  test("a short password is masked as a whole token, not inside words", () => {
    const url = "amqp://bob:p@broker:5672";
    expect(scrubSecret("amqp://bob:***@broker:5672 said: p is wrong", url)).toBe("amqp://bob:***@broker:5672 said: *** is wrong");
  });

  test("a password equal to the user name leaves the user visible", () => {
    const url = "amqp://guest:guest@broker:5672";
    expect(scrubSecret(`broker at ${url} refused user 'guest'`, url)).toBe("broker at amqp://guest:***@broker:5672 refused user 'guest'");
  });
});

describe("scrubSecrets: a list of URLs", () => {
  test("every URL's password goes, not only the first's", () => {
    const urls = ["amqp://a:first-secret@n1:5672", "amqp://b:second-secret@n2:5672"];
    const text = `n1 said first-secret, n2 at ${urls[1]} said second-secret`;
    expect(scrubSecrets(text, urls)).toBe("n1 said ***, n2 at amqp://b:***@n2:5672 said ***");
  });

  test("a percent-encoded password is scrubbed in both spellings", () => {
    const url = "amqp://bob:s3cr%40t!@broker";
    expect(scrubSecrets("raw s3cr%40t! and decoded s3cr@t!", [url])).toBe("raw *** and decoded ***");
  });
});

describe("malformed URL-ish input", () => {
  test.each([
    ["u:S3cr3tXYZ@127.0.0.1:5672", "u:***@127.0.0.1:5672"],
    ["amqp//u:S3cr3tXYZ@host", "amqp//u:***@host"],
    ["amqp:/u:S3cr3tXYZ@host", "amqp:/u:***@host"],
    ["amqp://u:S3c@r3tXYZ@host:99999", "amqp://u:***@host:99999"],
    ["u:S3cr3tXYZ", "u:***"],
    ["S3cr3tXYZ@host", "***@host"],
    ["http://u:S3cr3tXYZ@host/?a=1", "http://u:***@host/?a=1"],
    ["amqp://host:5672/vhost", "amqp://host:5672/vhost"],
  ])("%p is shown as %p", (input, shown) => {
    expect(maskUrlInput(input)).toBe(shown);
    expect(redactUrl(input)).not.toContain("S3cr3tXYZ");
  });

  test("passwordsIn finds the password whatever the shape", () => {
    expect(passwordsIn("u:S3cr3tXYZ@127.0.0.1:5672")).toContain("S3cr3tXYZ");
    expect(passwordsIn("u:S3cr3tXYZ")).toContain("S3cr3tXYZ");
    expect(passwordsIn("amqp://a:one@h1, amqp://b:two@h2")).toEqual(expect.arrayContaining(["one", "two"]));
    expect(passwordsIn("amqp://host:5672")).toEqual([]);
    expect(passwordsIn("amqp://guest:guest@host")).toEqual([]);
  });
});

test("a URL without a password loses nothing", () => {
  for (const url of ["amqp://host:5672/vhost", "amqps://rabbit.example.com/prod?heartbeat=10", "amqp://bob@host"]) {
    expect(passwordsIn(url)).toEqual([]);
    expect(redactUrl(url)).toBe(url);
    expect(scrubSecrets(`at ${url}: refused`, [url])).toBe(`at ${url}: refused`);
  }
});

describe("argv words that may hold a password", () => {
  test("every --url value, and words that look like URLs; not every word with a colon", async () => {
    const { argvSecretSources } = await import("../../src/cli/secrets.ts");
    expect(argvSecretSources(["call", "30", "--url", "u:pw", "--url=x:y", "--rtt-critical", "0.25:1s", "--queue", "a@b:c", "http://h"])).toEqual([
      "u:pw",
      "x:y",
      "a@b:c",
      "http://h",
    ]);
  });
});
