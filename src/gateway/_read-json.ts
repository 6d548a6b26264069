/**
 * Reading a request body as JSON, defensively: content type checked before the body is read
 * (415), strict UTF-8 (400), nesting depth counted before parsing (the engine's limit and error,
 * TOO_DEEP) so a 10,000-deep array is a 400 and never a stack overflow, and the size limit (413)
 * checked from `Content-Length` before a byte is read, or counted while reading a chunked body.
 * The body is read without building a WHATWG Request (@hono/node-server reads it from the socket
 * directly; hono's `bodyLimit` made one, with a ReadableStream and an AbortSignal, for every
 * POST: about 3× the CPU of the whole request). The instructions rules are the engine's.
 */
import type { Context, MiddlewareHandler } from "hono";
import { ERROR_CODES } from "../core/errors/error-codes.ts";
import { jsonExceedsDepth, tooDeep } from "../core/enqueue-rules.ts";
import { HttpError } from "./http-error.ts";

/** `application/json`, any `application/*+json`, with no charset or charset=utf-8. */
export function isJsonContentType(header: string): boolean {
  if (header === "application/json") return true;
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
  checkJsonContentType(c);
  await next();
};

/** `requireJson` as a plain check (the enqueue route's hot path, _enqueue-request.ts). */
export function checkJsonContentType(c: Context): void {
  const type = c.req.header("content-type");
  if (type !== undefined && type.trim() !== "" && !isJsonContentType(type)) {
    throw new HttpError(ERROR_CODES.UNSUPPORTED_MEDIA_TYPE, `content type "${type}" is not accepted: send JSON with -H 'content-type: application/json'`);
  }
}

const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * The body as JSON; an empty body is `{}` (so `curl -X POST url` works), or undefined with
 * `emptyIsNone` (a body that may be left out, as a retry's new instructions). Only what HTTP adds
 * is checked here (UTF-8, JSON syntax, and the engine's depth limit on the text, before parsing);
 * whether it is acceptable instructions is the engine's rule, the same for every door.
 */
export async function readInstructions(c: Context, pipeline: string, maxBytes: number, options: { emptyIsNone?: boolean } = {}): Promise<unknown> {
  const bytes = await readBody(c, maxBytes);
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch (error) {
    throw new HttpError(ERROR_CODES.INVALID_UTF8, "body is not valid UTF-8", { cause: error });
  }
  if (text.trim() === "") return options.emptyIsNone === true ? undefined : {};
  if (jsonExceedsDepth(text)) throw tooDeep(pipeline);
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new HttpError(ERROR_CODES.INVALID_JSON, `body is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
}

const tooLarge = (maxBytes: number): HttpError => new HttpError(ERROR_CODES.PAYLOAD_TOO_LARGE, `body larger than ${maxBytes} bytes`);

/** The body's bytes, or 413 past `maxBytes`: from the declared length at once, else while reading. */
export async function readBody(c: Context, maxBytes: number): Promise<Uint8Array> {
  const declared = c.req.header("content-length");
  if (declared !== undefined && /^\d+$/.test(declared.trim())) {
    if (Number(declared) > maxBytes) throw tooLarge(maxBytes);
    // Node's HTTP parser delivers exactly the declared length.
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    if (bytes.length > maxBytes) throw tooLarge(maxBytes);
    return bytes;
  }
  const body = c.req.raw.body;
  if (body === null) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > maxBytes) {
      await reader.cancel();
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total);
}
