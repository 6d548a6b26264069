/**
 * Optional bearer token: `Authorization: Bearer <token>` (or, on the dashboard's event stream,
 * `?token=`), compared in constant time (`timingSafeEqual` on SHA-256 digests, so neither the
 * length nor a prefix of the token leaks).
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { ERROR_CODES } from "../core/errors/error-codes.ts";
import { HttpError } from "./http-error.ts";

const digest = (value: string): Buffer => createHash("sha256").update(value, "utf8").digest();

/** True when `header` carries exactly `token` as a bearer token. */
export function bearerMatches(header: string | undefined, expected: Buffer): boolean {
  const match = /^Bearer[ ]+(\S+)[ ]*$/i.exec(header ?? "");
  const given = digest(match?.[1] ?? "");
  // Always compare, even without a header, so a missing and a wrong token take the same time.
  return timingSafeEqual(given, expected) && match !== null;
}

/** True when `given` is `expected` (the dashboard's event stream). */
export function tokensMatch(given: string | undefined, expected: string): boolean {
  return given !== undefined && timingSafeEqual(digest(given), digest(expected));
}

/** The token of an `Authorization: Bearer …` header, if any (the dashboard's event stream, which also reads `?token=`). */
export function bearerToken(header: string | undefined): string | undefined {
  return /^Bearer\s+(.+)$/i.exec(header ?? "")?.[1]?.trim();
}

/** A check throwing 401 unless the request carries `token`; undefined without a token (nothing to check). */
export function bearerCheck(token: string | undefined): ((c: Context) => void) | undefined {
  if (token === undefined || token === "") return undefined;
  const expected = digest(token);
  return (c) => {
    if (!bearerMatches(c.req.header("authorization"), expected)) {
      throw new HttpError(ERROR_CODES.UNAUTHORIZED, "missing or wrong bearer token (send Authorization: Bearer <token>)");
    }
  };
}

/** A middleware answering 401 unless the request carries `token`; a no-op without a token. */
export function bearerAuth(token: string | undefined): MiddlewareHandler {
  const check = bearerCheck(token);
  if (check === undefined) return async (_c, next) => next();
  return async (c, next) => {
    check(c);
    await next();
  };
}
