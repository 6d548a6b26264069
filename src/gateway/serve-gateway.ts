/**
 * Serves a gateway app over HTTP with @hono/node-server and closes it gracefully.
 *
 * ```ts
 * const served = await serveGateway(createGatewayApp(cluster), { port: 0, host: "127.0.0.1" });
 * console.log(served.url);       // http://127.0.0.1:41234/ (the real port when 0 was asked)
 * await served.close();          // stops accepting, lets requests finish for up to 1 s, then cuts
 * ```
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import type { Hono } from "hono";
import { UsageError } from "../core/errors/usage-error.ts";

export interface ServeOptions {
  /** TCP port; 0 picks a free one. */
  port: number;
  /** Interface to bind, e.g. 127.0.0.1 (this machine only) or 0.0.0.0 (every interface). */
  host: string;
}

export interface ServedGateway {
  /** The URL to open: `localhost` stands for a wildcard host. */
  url: string;
  port: number;
  /** Stops accepting; open requests (a `?wait`, the dashboard's event stream) get `graceMs` (default 1000). */
  close(graceMs?: number): Promise<void>;
}

export async function serveGateway(app: Hono, options: ServeOptions): Promise<ServedGateway> {
  const server = await new Promise<Server>((resolve, reject) => {
    const created = serve({ fetch: app.fetch, port: options.port, hostname: options.host }) as Server;
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
  const wildcard = options.host === "0.0.0.0" || options.host === "::" || options.host === "";
  const host = wildcard ? "localhost" : options.host.includes(":") ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}/`,
    port,
    close: async (graceMs = 1000) => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), graceMs);
      await closed;
      clearTimeout(timer);
    },
  };
}
