import { describe, expect, test } from "bun:test";
import { classifyBrokerError } from "../../src/rpc/broker.ts";

function tlsError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

describe("TLS failures are 'unreachable' with a clear reason", () => {
  const url = "amqps://user:s3cret@broker.example:5671";

  test.each([
    ["UNABLE_TO_GET_ISSUER_CERT_LOCALLY", "unable to get local issuer certificate"],
    ["SELF_SIGNED_CERT_IN_CHAIN", "self signed certificate in certificate chain"],
    ["DEPTH_ZERO_SELF_SIGNED_CERT", "self signed certificate"],
    ["CERT_HAS_EXPIRED", "certificate has expired"],
    ["ERR_TLS_CERT_ALTNAME_INVALID", "Hostname/IP does not match certificate's altnames"],
  ])("%s -> certificate verify failed", (code, message) => {
    const error = classifyBrokerError(tlsError(code, message), url);
    expect(error.kind).toBe("unreachable");
    expect(error.message).toContain(`TLS: certificate verify failed (${message})`);
    expect(error.message).not.toContain("s3cret");
  });

  test("other TLS errors keep the handshake message", () => {
    const error = classifyBrokerError(tlsError("ERR_SSL_WRONG_VERSION_NUMBER", "wrong version number"), url);
    expect(error.kind).toBe("unreachable");
    expect(error.message).toContain("TLS handshake with amqps://user:***@broker.example:5671 failed");
  });
});
