/**
 * zod schemas of everything the gateway reads from a request besides the body: path parameters,
 * query strings, headers. `parseOr400` turns a failure into a 400 naming the field.
 */
import { z } from "zod";
import { JOB_STATUSES } from "../core/job.ts";
import { InvalidRequestError } from "../core/errors/invalid-request-error.ts";

/** Job ids: 22 characters of [0-9a-z] (see src/core/ids.ts). */
export const jobIdSchema = z.string().regex(/^[0-9a-z]{22}$/, "a job id is 22 characters of 0-9 and a-z");

const integerString = z.string().regex(/^\d{1,9}$/, "must be a whole number").transform(Number);

export const enqueueQuerySchema = (maxWaitMs: number) =>
  z.object({
    wait: integerString.pipe(z.number().max(maxWaitMs, `must be at most ${maxWaitMs} (ms)`)).optional(),
  });

export const idempotencyKeySchema = z
  .string()
  .min(1, "must not be empty")
  .max(256, "must be at most 256 characters")
  .regex(/^[\x21-\x7e]+$/, "must be printable ASCII without spaces")
  .optional();

export const listJobsQuerySchema = z.object({
  pipeline: z.string().min(1).optional(),
  status: z.enum(JOB_STATUSES as [string, ...string[]]).optional(),
  limit: integerString.pipe(z.number().min(1).max(1000, "must be at most 1000")).optional(),
});

export function parseOr400<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue === undefined || issue.path.length === 0 ? what : `${what} ${issue.path.join(".")}`;
  throw new InvalidRequestError(`${field}: ${issue?.message ?? "invalid"}`);
}
