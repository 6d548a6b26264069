/**
 * What `POST /pipelines/{name}/jobs` reads before the body, read by hand on the gateway's busiest
 * route rather than through hono middleware and @hono/zod-openapi validators: those are five
 * layers of async closures per request, and the header validator copies every header into an
 * object (with a WHATWG Headers built for it) to read one. Same checks, same order, same answers:
 * the bearer token (401), the content type (415), the query string through the route's own zod
 * schema (400 with validationHook's message; skipped when the URL has none, whose answer is
 * `{}`), the `Idempotency-Key` header through its own (when sent). The route stays an
 * OpenAPI route for `/openapi.json` (gateway-app.ts registers its definition).
 *
 * ```ts
 * const read = enqueueRequestReader(routes.enqueue, token);
 * const { name, wait, delay, runAt, priority, idempotencyKey } = read(c);
 * ```
 */
import type { Context } from "hono";
import type { z } from "zod";
import { bearerCheck } from "./_auth.ts";
import { checkJsonContentType } from "./_read-json.ts";
import type { gatewayRoutes } from "./_routes.ts";
import { parseOr400 } from "./_schemas.ts";

type EnqueueRoute = ReturnType<typeof gatewayRoutes>["enqueue"];
type EnqueueQuery = z.output<EnqueueRoute["request"]["query"]>;

export interface EnqueueRequest extends EnqueueQuery {
  /** The `{name}` path parameter (a pipeline name; whether it exists is the caller's to check). */
  name: string;
  idempotencyKey: string | undefined;
}

export function enqueueRequestReader(route: EnqueueRoute, token: string | undefined): (c: Context) => EnqueueRequest {
  const auth = bearerCheck(token);
  const { query: querySchema, headers: headersSchema } = route.request;
  return (c) => {
    auth?.(c);
    checkJsonContentType(c);
    // As hono's query validator gives it: a repeated parameter is an array (which the schema refuses).
    const query: EnqueueQuery = c.req.url.includes("?")
      ? parseOr400(querySchema, Object.fromEntries(Object.entries(c.req.queries()).map(([k, v]) => [k, v.length === 1 ? v[0] : v])), "query")
      : {};
    // The router's `:name` is never empty, all the path schema asks (min 1); findPipeline answers 404 for an unknown one.
    const name = c.req.param("name") ?? "";
    const key = c.req.header("idempotency-key");
    const idempotencyKey = key === undefined ? undefined : parseOr400(headersSchema, { "idempotency-key": key }, "header")["idempotency-key"];
    return { ...query, name, idempotencyKey };
  };
}

/**
 * `202 {id, pipeline, status}` (200 when the job is already final: a replayed key), with
 * `Location` and, for a replayed key, `Idempotent-Replayed: true`. The text is written directly
 * (the bytes `JSON.stringify` of that object gives) and the headers are a plain object with
 * lower-case names, as hono's Headers send them: @hono/node-server writes it without building a
 * WHATWG Headers, which `c.header()` then `c.json()` make.
 */
export function acceptedAnswer(job: { id: string; pipeline: string; status: string }, status: number, replayed: boolean): Response {
  const body = `{"id":${JSON.stringify(job.id)},"pipeline":${JSON.stringify(job.pipeline)},"status":${JSON.stringify(job.status)}}`;
  const headers: Record<string, string> = replayed
    ? { "content-type": "application/json", location: `/jobs/${job.id}`, "idempotent-replayed": "true" }
    : { "content-type": "application/json", location: `/jobs/${job.id}` };
  return new Response(body, { status, headers });
}
