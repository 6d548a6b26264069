/**
 * The live dashboard: `GET /` (the page), `GET /dashboard/<file>` (its script and styles, served
 * from `assets/`; no CDN, works offline) and `GET /events` (server-sent events: a snapshot of the
 * cluster first, then the parts that changed, coalesced). The page calls the gateway's JSON
 * routes for actions (`POST /pipelines/:name/jobs`, `GET /jobs/:id`, `POST /jobs/:id/retry`).
 *
 * ```ts
 * const app = new Hono();
 * app.route("/", createDashboardApp(cluster, { token: process.env.MARIO_TOKEN }));
 * ```
 *
 * When a token is set, `/events` requires it, as `Authorization: Bearer <token>` or, because a
 * browser's EventSource cannot send headers, as `?token=<token>` (accepted on `/events` only;
 * compared in constant time). The page and its files are public: they hold no cluster data, and
 * the page asks for the token (kept in sessionStorage).
 */
import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { ERROR_CODES } from "../../core/errors/error-codes.ts";
import type { Cluster } from "../../engine/cluster.ts";
import { silentLogger, type Logger } from "../../log/logger.ts";
import { etagOf, loadAssets, type Asset } from "./_assets.ts";
import { LiveHub } from "./_live-hub.ts";
import { SseSession } from "./_sse-session.ts";
import { ThroughputRecorder } from "./_throughput-recorder.ts";
import { bearerToken, tokensMatch } from "../_auth.ts";

export interface DashboardOptions {
  /** Bearer token `/events` requires. Default: none (open). */
  token?: string | undefined;
  /** Comment line after this many ms without a message, so proxies keep the stream. Default 15 000. */
  heartbeatMs?: number | undefined;
  /** At most one push per this many ms during a burst of events. Default 300. */
  coalesceMs?: number | undefined;
  /** Re-reads the cluster this often while a browser is connected (heartbeats, other processes), ms. Default 1 000. */
  refreshMs?: number | undefined;
  /** A worker silent for longer is marked stale, ms. Default 5 000 (five missed heartbeats at the default 1 s). */
  staleAfterMs?: number | undefined;
  /** Jobs listed as recent (and as dead, and as failed). Default 30. */
  recentJobs?: number | undefined;
  logger?: Logger | undefined;
}

const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export function createDashboardApp(cluster: Cluster, options: DashboardOptions = {}): Hono {
  const token = options.token === "" ? undefined : options.token;
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const assets = loadAssets();
  const throughput = new ThroughputRecorder();
  throughput.attach(cluster);
  const hub = new LiveHub(cluster, throughput, {
    coalesceMs: options.coalesceMs ?? 300,
    refreshMs: options.refreshMs ?? 1_000,
    staleAfterMs: options.staleAfterMs ?? 5_000,
    recentJobs: options.recentJobs ?? 30,
    logger: options.logger ?? silentLogger,
  });
  const page = pageAsset(assets, token !== undefined);

  const app = new Hono();

  app.get("/", (c) => {
    c.header("Content-Security-Policy", CSP);
    c.header("X-Content-Type-Options", "nosniff");
    c.header("Referrer-Policy", "no-referrer");
    return serve(c.req.header("if-none-match"), page, c.body.bind(c));
  });

  app.get("/dashboard/:file", (c) => {
    const asset = assets.get(c.req.param("file"));
    if (asset === undefined || asset.contentType.startsWith("text/html")) {
      return c.json({ error: { code: ERROR_CODES.NOT_FOUND, message: `no dashboard file ${c.req.param("file")}` } }, 404);
    }
    c.header("X-Content-Type-Options", "nosniff");
    return serve(c.req.header("if-none-match"), asset, c.body.bind(c));
  });

  app.get("/events", (c) => {
    if (token !== undefined) {
      const given = bearerToken(c.req.header("authorization")) ?? c.req.query("token");
      if (!tokensMatch(given, token)) {
        c.header("WWW-Authenticate", 'Bearer realm="mario"');
        const message = given === undefined ? "a token is required (Authorization: Bearer <token>, or ?token=<token> on /events)" : "wrong token";
        return c.json({ error: { code: ERROR_CODES.UNAUTHORIZED, message } }, 401);
      }
    }
    c.header("X-Accel-Buffering", "no");
    return streamSSE(c, async (stream) => {
      const session = new SseSession();
      const leave = hub.subscribe(session);
      try {
        await session.run(stream, heartbeatMs);
      } finally {
        leave();
      }
    });
  });

  return app;
}

function pageAsset(assets: Map<string, Asset>, tokenRequired: boolean): Asset {
  const template = assets.get("index.html");
  if (template === undefined) throw new Error("dashboard: assets/index.html is missing");
  const body = template.body.replace("{{auth}}", tokenRequired ? "token" : "none");
  return { ...template, body, etag: etagOf(body) };
}

function serve(ifNoneMatch: string | undefined, asset: Asset, body: (data: string | null, status?: 200 | 304, headers?: Record<string, string>) => Response): Response {
  const headers = { "Content-Type": asset.contentType, ETag: asset.etag, "Cache-Control": "no-cache" };
  if (ifNoneMatch === asset.etag) return body(null, 304, headers);
  return body(asset.body, 200, headers);
}
