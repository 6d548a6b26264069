/**
 * Reading a request body as JSON, defensively: content type checked before the body is read
 * (415), strict UTF-8 (400), nesting depth counted before parsing (the engine's limit and error,
 * TOO_DEEP) so a 10,000-deep array is a 400 and never a stack overflow. The size limit (413) is
 * hono's `bodyLimit`, applied before this runs; the instructions rules are the engine's.
 */
import type { Context, MiddlewareHandler } from "hono";
import { ERROR_CODES } from "../core/errors/error-codes.ts";
import { jsonExceedsDepth, tooDeep } from "../core/enqueue-rules.ts";
import { HttpError } from "./http-error.ts";

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

const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * The body as JSON; an empty body is `{}` (so `curl -X POST url` works). Only what HTTP adds is
 * checked here (UTF-8, JSON syntax, and the engine's depth limit on the text, before parsing);
 * whether it is acceptable instructions is the engine's rule, the same for every door.
 */
export async function readInstructions(c: Context, pipeline: string): Promise<unknown> {
  const bytes = new Uint8Array(await c.req.arrayBuffer());
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch (error) {
    throw new HttpError(ERROR_CODES.INVALID_UTF8, "body is not valid UTF-8", { cause: error });
  }
  if (text.trim() === "") return {};
  if (jsonExceedsDepth(text)) throw tooDeep(pipeline);
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new HttpError(ERROR_CODES.INVALID_JSON, `body is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
}
