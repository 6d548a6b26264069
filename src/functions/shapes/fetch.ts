/**
 * The Web-standard shape: `export default { fetch(request, env, ctx) }` (a Workers-style handler
 * or a whole Hono app). The step receives a `POST` with the instructions as JSON body; the
 * response's JSON body is the output; a non-2xx status fails the attempt with the body as error.
 * A 4xx is the request's fault, so the job goes dead at once (no retry), except 408 (timeout) and
 * 429 (too many requests), which are retried like a 5xx.
 */
import type { StepContext } from "../../engine/delivery.ts";
import type { HandlerShape } from "../handler-shape.ts";
import { FetchStepError } from "./fetch-step-error.ts";

type FetchHandler = (request: Request, env: Record<string, string | undefined>, ctx: ExecutionContext) => Response | Promise<Response>;

interface ExecutionContext {
  waitUntil(promise: Promise<unknown>): void;
  passThroughOnException(): void;
}

export const fetchShape: HandlerShape = {
  shape: "fetch",
  fromModule: (mod) => {
    const app = mod.default as { fetch?: unknown } | undefined;
    if (app === null || typeof app !== "object" || typeof app.fetch !== "function") return undefined;
    const fetchHandler = (app.fetch as FetchHandler).bind(app);
    return async (instructions, ctx: StepContext) => {
      const pending: Promise<unknown>[] = [];
      const request = new Request(`http://mario.local/${encodeURIComponent(ctx.jobType)}`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-mario-job-id": ctx.jobId, "x-mario-attempt": String(ctx.attempt) },
        body: JSON.stringify(instructions),
        signal: ctx.signal,
      });
      const response = await fetchHandler(request, { ...process.env }, {
        waitUntil: (promise) => void pending.push(promise.catch(() => {})),
        passThroughOnException: () => {},
      });
      const text = await response.text();
      await Promise.all(pending);
      if (!response.ok) throw new FetchStepError(response.status, text);
      if (text.trim() === "") return null;
      return JSON.parse(text) as unknown;
    };
  },
};
