/**
 * HTTP listener flags shared by `mario up` and `mario gateway`: where to listen, the token and
 * CORS origins of the API, the largest body, how long a client may take to send a request, and
 * how many connections may be open at once (slow clients cannot hold the server).
 */
import { UsageError } from "../core/errors/usage-error.ts";
import { DEFAULT_MAX_BODY_BYTES, type GatewayOptions } from "../gateway/gateway-app.ts";
import { DEFAULT_HEADERS_TIMEOUT_MS, DEFAULT_MAX_CONNECTIONS, DEFAULT_REQUEST_TIMEOUT_MS, type ServeOptions } from "../gateway/serve-gateway.ts";
import type { Logger } from "../log/logger.ts";
import { corsOrigins, nonEmpty, wholeNumberFlag } from "./_flags.ts";

export const DEFAULT_PORT = 8080;
export const DEFAULT_HOST = "127.0.0.1";

export const httpFlags = {
  port: { type: "string", description: `HTTP port (default PORT, else ${DEFAULT_PORT}; 0 = a free port)` },
  host: { type: "string", default: DEFAULT_HOST, description: "interface to listen on (0.0.0.0 = every interface, as in Docker)" },
  token: { type: "string", description: "bearer token the HTTP API requires (default MARIO_TOKEN, else none)" },
  cors: { type: "string", description: "origin allowed to call the API from a browser (CORS), e.g. https://app.example.com; comma-separated for several, * for any (default none)" },
  "max-body": { type: "string", description: `largest request body, bytes (default ${DEFAULT_MAX_BODY_BYTES})` },
  "headers-timeout-ms": { type: "string", description: `a request's headers must arrive within this many ms (default ${DEFAULT_HEADERS_TIMEOUT_MS})` },
  "request-timeout-ms": { type: "string", description: `a whole request must arrive within this many ms (default ${DEFAULT_REQUEST_TIMEOUT_MS})` },
  "max-connections": { type: "string", description: `HTTP connections open at once; more are closed on arrival (default ${DEFAULT_MAX_CONNECTIONS})` },
} as const;

/** What the flags give: the gateway app's options and the listener's; a USAGE error naming a bad flag. */
export function httpOptionsFrom(
  args: { [flag in keyof typeof httpFlags]?: string | undefined },
  logger: Logger,
): { app: Pick<GatewayOptions, "token" | "maxBodyBytes" | "cors" | "logger">; serve: ServeOptions } {
  const port = wholeNumberFlag(args.port ?? nonEmpty(process.env.PORT), args.port === undefined ? "PORT" : "--port") ?? DEFAULT_PORT;
  if (port > 65535) throw new UsageError(`--port must be at most 65535, got ${port}`);
  const token = args.token ?? nonEmpty(process.env.MARIO_TOKEN);
  return {
    app: { token, maxBodyBytes: wholeNumberFlag(args["max-body"], "--max-body", 1), cors: corsOrigins(args.cors), logger },
    serve: {
      port,
      host: args.host ?? DEFAULT_HOST,
      headersTimeoutMs: wholeNumberFlag(args["headers-timeout-ms"], "--headers-timeout-ms", 1),
      requestTimeoutMs: wholeNumberFlag(args["request-timeout-ms"], "--request-timeout-ms", 1),
      maxConnections: wholeNumberFlag(args["max-connections"], "--max-connections", 1),
      tokenRequired: token !== undefined,
      warn: (line) => logger.warn(line),
    },
  };
}
