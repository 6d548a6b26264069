/**
 * HTTP listener flags shared by `mario up` and `mario gateway`: how long a client may take to send
 * a request, and how many connections may be open at once (slow clients cannot hold the server).
 */
import { DEFAULT_HEADERS_TIMEOUT_MS, DEFAULT_MAX_CONNECTIONS, DEFAULT_REQUEST_TIMEOUT_MS, type ServeOptions } from "../gateway/serve-gateway.ts";
import { wholeNumberFlag } from "./_flags.ts";

export const httpFlags = {
  "headers-timeout-ms": { type: "string", description: `a request's headers must arrive within this many ms (default ${DEFAULT_HEADERS_TIMEOUT_MS})` },
  "request-timeout-ms": { type: "string", description: `a whole request must arrive within this many ms (default ${DEFAULT_REQUEST_TIMEOUT_MS})` },
  "max-connections": { type: "string", description: `HTTP connections open at once; more are closed on arrival (default ${DEFAULT_MAX_CONNECTIONS})` },
} as const;

export function httpOptionsFrom(args: {
  "headers-timeout-ms"?: string | undefined;
  "request-timeout-ms"?: string | undefined;
  "max-connections"?: string | undefined;
}): Pick<ServeOptions, "headersTimeoutMs" | "requestTimeoutMs" | "maxConnections"> {
  return {
    headersTimeoutMs: wholeNumberFlag(args["headers-timeout-ms"], "--headers-timeout-ms", 1),
    requestTimeoutMs: wholeNumberFlag(args["request-timeout-ms"], "--request-timeout-ms", 1),
    maxConnections: wholeNumberFlag(args["max-connections"], "--max-connections", 1),
  };
}
