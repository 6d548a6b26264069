/** Reads the file at `path` and adds its sha1 `hash`. */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";

export const config = { concurrency: 4, timeoutMs: 10_000 };

export default async function calculateHash(instructions: { path: string; size?: number }) {
  const hash = createHash("sha1").update(await readFile(instructions.path)).digest("hex");
  return { ...instructions, hash };
}
