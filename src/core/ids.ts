import { randomBytes } from "node:crypto";

const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";

/**
 * A new job or worker id: 10 characters of time then 12 random ones (Crockford base32),
 * so ids sort by creation time and never collide in practice.
 */
export function newId(now: number = Date.now()): string {
  if (now !== lastNow) {
    let time = "";
    let t = now;
    for (let i = 0; i < 10; i++) {
      time = ALPHABET[t % 32]! + time;
      t = Math.floor(t / 32);
    }
    lastNow = now;
    lastTime = time;
  }
  if (poolOffset + 12 > pool.length) {
    pool = randomBytes(4096);
    poolOffset = 0;
  }
  let random = "";
  // Two characters (10 random bits) at a time.
  for (let i = 0; i < 12; i += 2) random += PAIRS[((pool[poolOffset + i]! & 31) << 5) | (pool[poolOffset + i + 1]! & 31)]!;
  poolOffset += 12;
  return lastTime + random;
}

/** The time part of the last id made, for the millisecond it was made in. */
let lastNow = -1;
let lastTime = "";

/** Every pair of alphabet characters, indexed by their two 5-bit values. */
const PAIRS: readonly string[] = Array.from({ length: 1024 }, (_, n) => ALPHABET[n >> 5]! + ALPHABET[n & 31]!);

// Random bytes drawn 4 KiB at a time: one system call per ~340 ids instead of one per id.
let pool = randomBytes(4096);
let poolOffset = 0;

const ID_PATTERN = /^[0-9a-z]{22}$/;

export function isJobId(value: string): boolean {
  return ID_PATTERN.test(value);
}

/** Bytes of randomness in a lease token: 128 bits, so a token cannot be guessed. */
export const LEASE_TOKEN_BYTES = 16;

let tokenPool = randomBytes(LEASE_TOKEN_BYTES * 256);
let tokenOffset = 0;

/**
 * A new lease token: 128 random bits from the system's CSPRNG, base64url (22 characters).
 * Tokens are drawn from a pool refilled 4 KiB at a time (one system call per 256 tokens).
 */
export function newLeaseToken(): string {
  if (tokenOffset + LEASE_TOKEN_BYTES > tokenPool.length) {
    tokenPool = randomBytes(LEASE_TOKEN_BYTES * 256);
    tokenOffset = 0;
  }
  const token = tokenPool.toString("base64url", tokenOffset, tokenOffset + LEASE_TOKEN_BYTES);
  tokenOffset += LEASE_TOKEN_BYTES;
  return token;
}

/** Many lease tokens at once (a batch of leases). */
export function newLeaseTokens(count: number): string[] {
  const tokens: string[] = [];
  for (let i = 0; i < count; i++) tokens.push(newLeaseToken());
  return tokens;
}
