/**
 * Bearer token checks for the dashboard's event stream, in constant time (both sides are hashed
 * first, so neither the token's length nor its content leaks through timing).
 */
import { createHash, timingSafeEqual } from "node:crypto";

export function tokensMatch(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The token of an `Authorization: Bearer …` header, if any. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? "");
  return match?.[1]?.trim();
}
