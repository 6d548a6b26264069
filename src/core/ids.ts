import { randomBytes } from "node:crypto";

const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";

/**
 * A new job or worker id: 10 characters of time then 12 random ones (Crockford base32),
 * so ids sort by creation time and never collide in practice.
 */
export function newId(now: number = Date.now()): string {
  let time = "";
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32]! + time;
    t = Math.floor(t / 32);
  }
  const bytes = randomBytes(12);
  let random = "";
  for (const byte of bytes) random += ALPHABET[byte % 32]!;
  return time + random;
}

const ID_PATTERN = /^[0-9a-z]{22}$/;

export function isJobId(value: string): boolean {
  return ID_PATTERN.test(value);
}
