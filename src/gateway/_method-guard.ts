/**
 * What a request that matched no route gets: 405 with `Allow` when the path exists under other
 * methods (HEAD goes with GET), else a JSON 404. Built from the app's own route table, so a route
 * added later is covered without a list kept by hand.
 */
import type { Context, Hono } from "hono";
import { ERROR_CODES } from "../core/errors/error-codes.ts";

interface RouteShape {
  pattern: RegExp;
  method: string;
}

export function notFoundOrNotAllowed(app: Hono): (c: Context) => Response {
  let shapes: RouteShape[] | undefined;
  return (c) => {
    // Routes are all registered before the first request; read the table once.
    shapes ??= app.routes
      .filter((r) => r.method !== "ALL" && !r.path.includes("*"))
      .map((r) => ({ method: r.method, pattern: new RegExp(`^${r.path.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/:[A-Za-z_]+/g, "[^/]+")}/?$`) }));
    const allowed = new Set(shapes.filter((s) => s.pattern.test(c.req.path)).map((s) => s.method));
    if (allowed.size === 0) return c.json({ error: { code: ERROR_CODES.NOT_FOUND, message: `no route ${c.req.method} ${c.req.path}` } }, 404);
    if (allowed.has("GET")) allowed.add("HEAD");
    allowed.add("OPTIONS");
    const allow = [...allowed].sort().join(", ");
    c.header("Allow", allow);
    if (c.req.method === "OPTIONS") return c.body(null, 204);
    return c.json({ error: { code: ERROR_CODES.METHOD_NOT_ALLOWED, message: `${c.req.method} is not allowed on ${c.req.path}; allowed: ${allow}` } }, 405);
  };
}
