/**
 * Serves a gateway app over HTTP with @hono/node-server and closes it gracefully.
 *
 * ```ts
 * const served = await serveGateway(createGatewayApp(cluster), { port: 0, host: "127.0.0.1" });
 * console.log(served.url);       // http://127.0.0.1:41234/ (the real port when 0 was asked)
 * await served.close();          // stops accepting, lets requests finish for up to 1 s, then cuts
 * ```
 *
 * Slow or greedy clients are cut: a request's headers must arrive within `headersTimeoutMs`
 * (default 10 s) and the whole request within `requestTimeoutMs` (default 30 s), checked every
 * second; at most `maxConnections` (default 1024) are open at once, the next ones are closed as
 * they arrive. Answers may take as long as they need (`?wait`, the event stream).
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import type { Hono } from "hono";
import { UsageError } from "../core/errors/usage-error.ts";

export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_CONNECTIONS = 1024;

export interface ServeOptions {
  /** TCP port; 0 picks a free one. */
  port: number;
  /** Interface to bind, e.g. 127.0.0.1 (this machine only) or 0.0.0.0 (every interface). */
  host: string;
  /** A request's headers must arrive within this many ms (`--headers-timeout-ms`). Default 10 000. */
  headersTimeoutMs?: number | undefined;
  /** The whole request (headers and body) must arrive within this many ms (`--request-timeout-ms`). Default 30 000. */
  requestTimeoutMs?: number | undefined;
  /** Connections open at once (`--max-connections`); more are closed on arrival. Default 1024. */
  maxConnections?: number | undefined;
  /** Whether the API requires a token: without one, a listener other machines reach gets a warning. */
  tokenRequired?: boolean | undefined;
  /** Where the warning goes. Default stderr. */
  warn?: ((line: string) => void) | undefined;
}

/** True for a host only this machine reaches. */
function isLoopbackHost(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export interface ServedGateway {
  /** The URL to open: `localhost` stands for a wildcard host. */
  url: string;
  port: number;
  /** Connections open now. */
  connections(): Promise<number>;
  /** Stops accepting; open requests (a `?wait`, the dashboard's event stream) get `graceMs` (default 1000). */
  close(graceMs?: number): Promise<void>;
}

export async function serveGateway(app: Hono, options: ServeOptions): Promise<ServedGateway> {
  const server = await new Promise<Server>((resolve, reject) => {
    const headersTimeout = options.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS;
    const created = serve({
      fetch: app.fetch,
      port: options.port,
      hostname: options.host,
      serverOptions: {
        headersTimeout,
        // Node refuses a request timeout shorter than the headers timeout; 0 turns it off.
        requestTimeout: Math.max(headersTimeout, options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS),
        connectionsCheckingInterval: Math.min(1000, Math.max(10, Math.floor(headersTimeout / 2))),
      },
    }) as Server;
    created.maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    const onError = (error: NodeJS.ErrnoException): void => {
      created.close();
      const reason = error.code === "EADDRINUSE" ? "the port is in use (choose another with --port, or --port=0 for a free one)" : error.message;
      reject(new UsageError(`cannot listen on ${options.host}:${options.port}: ${reason}`, { cause: error }));
    };
    created.once("error", onError);
    created.once("listening", () => {
      created.off("error", onError);
      resolve(created);
    });
  });
  const port = (server.address() as AddressInfo).port;
  if (options.tokenRequired === false && !isLoopbackHost(options.host)) {
    (options.warn ?? ((line) => process.stderr.write(line + "\n")))(
      `the HTTP API on ${options.host}:${port} is reachable from other machines without a token: anyone who can connect can enqueue, cancel and delete jobs; require one with --token (or MARIO_TOKEN)`,
    );
  }
  const wildcard = options.host === "0.0.0.0" || options.host === "::" || options.host === "";
  const host = wildcard ? "localhost" : options.host.includes(":") ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}/`,
    port,
    connections: () => new Promise((resolve, reject) => server.getConnections((error, count) => (error ? reject(error) : resolve(count)))),
    close: async (graceMs = 1000) => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), graceMs);
      await closed;
      clearTimeout(timer);
    },
  };
}
