/**
 * Many pre-encoded JSON items as few message bodies, each under a receiver's frame limit: a body
 * is closed once it holds `maxItems` items or the next item would take it past `targetBytes`.
 * Only a body of one item can be bigger than `targetBytes`; callers keep single items under the
 * receiver's limit (see `fitsIn`).
 *
 * ```ts
 * const bodies = jsonBatches('{"replies":[', "]}", replies.map((r) => JSON.stringify(r)), { maxItems: 1024, targetBytes: 1 << 20 });
 * for (const { body } of bodies) await queue.send(encodeJson("replies", body));   // `count`: items in it, in order
 * ```
 */

export interface JsonBatchLimits {
  /** Items per body. */
  maxItems: number;
  /** A body is closed before an item would take it past this many bytes (counted as UTF-16 units, a lower bound of UTF-8). */
  targetBytes: number;
}

/** Room for the frames and JSON around a body's items. */
export const MESSAGE_OVERHEAD_BYTES = 4096;

/** What a body aims at: far under the 16 MiB default limit, big enough to batch 1,000 small items. */
export const BATCH_TARGET_BYTES = 1024 * 1024;

export interface JsonBatch {
  body: string;
  /** How many of the items, the next ones in order, it holds. */
  count: number;
}

export function jsonBatches(head: string, tail: string, items: readonly string[], limits: JsonBatchLimits): JsonBatch[] {
  const bodies: JsonBatch[] = [];
  let parts: string[] = [];
  let bytes = 0;
  for (const json of items) {
    if (parts.length > 0 && (parts.length >= limits.maxItems || bytes + json.length > limits.targetBytes)) {
      bodies.push({ body: `${head}${parts.join(",")}${tail}`, count: parts.length });
      parts = [];
      bytes = 0;
    }
    parts.push(json);
    bytes += json.length;
  }
  if (parts.length > 0) bodies.push({ body: `${head}${parts.join(",")}${tail}`, count: parts.length });
  return bodies;
}

/** Whether encoded JSON is at most `maxBytes` of UTF-8 (a UTF-16 unit is at most 3 bytes). */
export function fitsIn(json: string, maxBytes: number): boolean {
  return json.length * 3 <= maxBytes || Buffer.byteLength(json) <= maxBytes;
}
