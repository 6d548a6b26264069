/**
 * zod schemas of what the gateway reads from a request: path parameters, query strings, headers,
 * the instructions body. The routes (`_routes.ts`) validate with them and `/openapi.json` is
 * generated from them. `validationHook` turns a failure into a 400 naming the field.
 */
import type { Context } from "hono";
import { z } from "zod";
import { MAX_IDEMPOTENCY_KEY_LENGTH } from "../core/enqueue-rules.ts";
import { InvalidRequestError } from "../core/errors/invalid-request-error.ts";

/** Job ids: 22 characters of [0-9a-z] (see src/core/ids.ts). */
export const jobIdSchema = z.string().regex(/^[0-9a-z]{22}$/, "a job id is 22 characters of 0-9 and a-z");

/** A whole number in a query string (any count of digits: one too large is refused by the bound after it, with the bound's message). */
export const integerString = z.string().regex(/^\d+$/, "must be a whole number").transform(Number);

/** `?wait=ms`, at most `maxWaitMs`. */
export const waitSchema = (maxWaitMs: number) => integerString.pipe(z.number().max(maxWaitMs, `must be at most ${maxWaitMs} (ms)`));

/**
 * The `Idempotency-Key` header, as OpenAPI shows it. Its rule is the engine's
 * (core/enqueue-rules.ts): checked there, so a bad key gets the same code and message over HTTP
 * and ZeroMQ.
 */
export const idempotencyKeySchema = z
  .string()
  .optional()
  .describe(`1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters without spaces (! to ~); the same key gives the same job`);

/** A job's instructions, as OpenAPI shows them: a JSON object (checked by the engine). */
export const instructionsSchema = z.record(z.string(), z.unknown());

export function parseOr400<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw invalid(parsed.error, what);
}

const TARGET_NAMES: Readonly<Record<string, string>> = { query: "query", param: "path", header: "header", json: "body" };

/** The routes' validation hook (@hono/zod-openapi `defaultHook`): a failure is a 400 `INVALID_REQUEST`. */
export function validationHook(result: { success: boolean; target: string; error?: unknown }, _c: Context): void {
  if (result.success) return;
  throw invalid(result.error as z.ZodError, TARGET_NAMES[result.target] ?? result.target);
}

function invalid(error: z.ZodError, what: string): InvalidRequestError {
  const issue = error.issues[0];
  if (issue?.code === "unrecognized_keys") {
    return new InvalidRequestError(`${what}: unknown parameter${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")}`);
  }
  const field = issue === undefined || issue.path.length === 0 ? what : `${what} ${issue.path.join(".")}`;
  return new InvalidRequestError(`${field}: ${issue?.message ?? "invalid"}`);
}
