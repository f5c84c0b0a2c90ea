import { isIPv4, isIPv6 } from "node:net";
import { UsageError } from "../errors.ts";

/** Where `serve --http` listens. No hostname: every interface, IPv4 and IPv6. */
export interface ListenAddress {
  hostname: string | undefined;
  /** 0 lets the system pick a free port (named in the log line). */
  port: number;
}

const EXAMPLES = "e.g. :9464, 127.0.0.1:9464, [::1]:9464 or localhost:9464";
const HOST_NAME = /^(?=.{1,253}\.?$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;

/**
 * Reads `--http ADDR` the way Prometheus exporters write theirs (`:9464` for every interface).
 * Pure: every refusal is a UsageError that says what to write instead.
 */
export function parseListenAddress(text: string): ListenAddress {
  const value = text.trim();
  const refuse = (why: string): never => {
    throw new UsageError(`--http ${why}; got '${text}' (${EXAMPLES})`);
  };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) refuse("takes an address to listen on, not a URL");
  if (/^\d+$/.test(value)) refuse(`needs a colon before the port: ':${value}' listens on every interface`);
  const bracketed = /^\[([^\]]*)\]:([^:]*)$/.exec(value);
  const plain = bracketed === null ? /^([^:[\]]*):([^:]*)$/.exec(value) : null;
  const match = bracketed ?? plain;
  if (match === null) {
    if (value.split(":").length > 2 && !value.startsWith("[")) refuse("needs an IPv6 address in brackets, as in [::1]:9464");
    return refuse("needs HOST:PORT or :PORT");
  }
  const [, host = "", portText = ""] = match;
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65_535) refuse("needs a port from 0 to 65535 after the colon");
  const port = Number(portText);
  if (bracketed !== null) {
    if (!isIPv6(host)) refuse(`has '${host}' in brackets, which is not an IPv6 address`);
    return { hostname: host, port };
  }
  if (host === "") return { hostname: undefined, port };
  if (!isIPv4(host) && (!HOST_NAME.test(host) || /^[\d.]+$/.test(host))) refuse(`has '${host}', which is neither an IPv4 address nor a host name`);
  return { hostname: host, port };
}

/** The address as the user writes it (`:9464`, `127.0.0.1:9464`, `[::1]:9464`), with the port actually listened on. */
export function formatListenAddress(address: ListenAddress, port = address.port): string {
  if (address.hostname === undefined) return `:${port}`;
  return isIPv6(address.hostname) ? `[${address.hostname}]:${port}` : `${address.hostname}:${port}`;
}
