/** Deletes the file at `path`; the output keeps what came in and adds `deleted_path`. */
import { rm } from "node:fs/promises";

export const config = { concurrency: 4, timeoutMs: 10_000 };

export default async function deleteFile(instructions: { path: string }) {
  await rm(instructions.path, { force: true });
  const { path, ...rest } = instructions;
  return { ...rest, deleted_path: path };
}
