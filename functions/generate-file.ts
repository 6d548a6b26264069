/** Writes `size` random bytes (default 1024) to a new temporary file and returns its path. */
import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { StepContext } from "mario-pipelines";

export const config = { concurrency: 4, timeoutMs: 10_000, retries: 2 };
/** Shown in the curl line `mario up` prints. */
export const example = { size: 10 };

export default async function generateFile(instructions: { size?: number }, ctx: StepContext) {
  const size = Math.min(Math.max(0, Math.trunc(Number(instructions.size ?? 1024))), 64 * 1024 * 1024);
  const path = join(tmpdir(), `mario-${ctx.jobId}-${ctx.attempt}.bin`);
  await writeFile(path, randomBytes(size));
  return { path, size };
}
