import { describe, expect, test } from "bun:test";
import { FibrpcError } from "../../src/errors.ts";
import { formatListenAddress, parseListenAddress } from "../../src/ops/listen-address.ts";

describe("serve --http ADDR", () => {
  test("the forms Prometheus exporters take", () => {
    expect(parseListenAddress(":9464")).toEqual({ hostname: undefined, port: 9464 });
    expect(parseListenAddress("127.0.0.1:9464")).toEqual({ hostname: "127.0.0.1", port: 9464 });
    expect(parseListenAddress("[::1]:9464")).toEqual({ hostname: "::1", port: 9464 });
    expect(parseListenAddress("[::]:80")).toEqual({ hostname: "::", port: 80 });
    expect(parseListenAddress("localhost:9464")).toEqual({ hostname: "localhost", port: 9464 });
    expect(parseListenAddress("metrics.example.com:9464")).toEqual({ hostname: "metrics.example.com", port: 9464 });
    expect(parseListenAddress(" 0.0.0.0:65535 ")).toEqual({ hostname: "0.0.0.0", port: 65_535 });
    expect(parseListenAddress(":0")).toEqual({ hostname: undefined, port: 0 });
  });

  test("written back as the user writes it, with the port listened on", () => {
    expect(formatListenAddress(parseListenAddress(":0"), 40_001)).toBe(":40001");
    expect(formatListenAddress(parseListenAddress("[::1]:9464"))).toBe("[::1]:9464");
    expect(formatListenAddress(parseListenAddress("127.0.0.1:9464"))).toBe("127.0.0.1:9464");
  });

  const refusals: [string, RegExp][] = [
    ["", /needs HOST:PORT or :PORT/],
    ["9464", /needs a colon before the port: ':9464'/],
    ["localhost", /needs HOST:PORT or :PORT/],
    [":", /port from 0 to 65535/],
    [":65536", /port from 0 to 65535/],
    [":-1", /port from 0 to 65535/],
    [":94a", /port from 0 to 65535/],
    ["127.0.0.1:", /port from 0 to 65535/],
    ["::1:9464", /IPv6 address in brackets/],
    ["[::1]", /needs HOST:PORT/],
    ["[127.0.0.1]:9464", /not an IPv6 address/],
    ["[fe80::1%eth0", /needs HOST:PORT/],
    ["999.1.1.1:9464", /neither an IPv4 address nor a host name/],
    ["under_score:9464", /neither an IPv4 address nor a host name/],
    ["-bad.example:9464", /neither an IPv4 address nor a host name/],
    ["http://127.0.0.1:9464", /not a URL/],
  ];
  for (const [value, message] of refusals) {
    test(`refuses '${value}' as a usage error that shows the forms`, () => {
      let caught: unknown;
      try {
        parseListenAddress(value);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(FibrpcError);
      expect((caught as FibrpcError).kind).toBe("usage");
      expect((caught as FibrpcError).message).toMatch(message);
      expect((caught as FibrpcError).message).toContain("e.g. :9464");
    });
  }
});

describe("serve --http ADDR: edges", () => {
  test("host names may hold or start with digits, as long as they are not dotted numbers", () => {
    expect(parseListenAddress("host1:9464")).toEqual({ hostname: "host1", port: 9464 });
    expect(parseListenAddress("1a.example:9464")).toEqual({ hostname: "1a.example", port: 9464 });
  });

  test.each([
    ["x[::1]:9464", /IPv6 address in brackets/],
    ["[::1]:9464:1", /needs HOST:PORT/],
    ["a]:1", /needs HOST:PORT or :PORT/],
    [`${`${"a".repeat(60)}.`.repeat(5)}example:9464`, /neither an IPv4 address nor a host name/],
  ])("refuses %p", (value, message) => {
    expect(() => parseListenAddress(value)).toThrow(message);
  });
});
