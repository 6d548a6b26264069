/**
 * Reading a request body as a JSON object, defensively: content type checked before the body is
 * read (415), strict UTF-8 (400), nesting depth counted before parsing so a 10,000-deep array is
 * a 400 and never a stack overflow, then the schema (zod). The size limit (413) is hono's
 * `bodyLimit`, applied before this runs.
 */
import type { Context, MiddlewareHandler } from "hono";
import { ERROR_CODES } from "../core/errors/error-codes.ts";
import { InvalidInstructionsError } from "../core/errors/invalid-instructions-error.ts";
import { TooDeepError } from "../core/errors/too-deep-error.ts";
import type { Instructions } from "../core/job.ts";
import { HttpError } from "./http-error.ts";
import { instructionsSchema } from "./_schemas.ts";

/** `application/json`, any `application/*+json`, with no charset or charset=utf-8. */
export function isJsonContentType(header: string): boolean {
  const [type = "", ...params] = header.split(";").map((part) => part.trim().toLowerCase());
  if (type !== "application/json" && !/^application\/[a-z0-9.+-]+\+json$/.test(type)) return false;
  return params.every((param) => !param.startsWith("charset=") || /^charset="?utf-8"?$/.test(param));
}

/**
 * 415 unless the body is declared JSON. A request without a Content-Type is taken as JSON (for
 * hand-written clients); curl's `-d` default, `application/x-www-form-urlencoded`, is refused
 * with a hint to add the header.
 */
export const requireJson: MiddlewareHandler = async (c, next) => {
  const type = c.req.header("content-type");
  if (type !== undefined && type.trim() !== "" && !isJsonContentType(type)) {
    throw new HttpError(ERROR_CODES.UNSUPPORTED_MEDIA_TYPE, `content type "${type}" is not accepted: send JSON with -H 'content-type: application/json'`);
  }
  await next();
};

/**
 * Depth of the deepest `[`/`{` nesting in a JSON text, stopping as soon as it passes `limit`
 * (brackets inside strings do not count). Iterative: no recursion on hostile input.
 */
export function exceedsDepth(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c) i++; // backslash: skip the escaped character
      else if (ch === 0x22) inString = false;
    } else if (ch === 0x22) inString = true;
    else if (ch === 0x5b || ch === 0x7b) {
      if (++depth > limit) return true;
    } else if (ch === 0x5d || ch === 0x7d) depth--;
  }
  return false;
}

const decoder = new TextDecoder("utf-8", { fatal: true });

/** The body as a JSON object; an empty body is `{}` (so `curl -X POST url` works). */
export async function readInstructions(c: Context, maxDepth: number): Promise<Instructions> {
  const bytes = new Uint8Array(await c.req.arrayBuffer());
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch (error) {
    throw new HttpError(ERROR_CODES.INVALID_UTF8, "body is not valid UTF-8", { cause: error });
  }
  if (text.trim() === "") return {};
  if (exceedsDepth(text, maxDepth)) throw new TooDeepError(`JSON nested deeper than ${maxDepth} levels`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new HttpError(ERROR_CODES.INVALID_JSON, `body is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  const parsed = instructionsSchema.safeParse(value);
  if (!parsed.success) {
    const got = value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`;
    throw new InvalidInstructionsError(`instructions must be a JSON object, got ${got}`);
  }
  return parsed.data;
}
