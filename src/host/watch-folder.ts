/**
 * Calls `onChange` once things have settled after files change under `dir` (fs.watch, recursive,
 * with a debounce: an editor's save is several events). `node_modules` and dot folders are ignored.
 *
 * ```ts
 * const stop = watchFolder("functions", () => void host.reload(), { debounceMs: 100 });
 * ```
 */
import { watch, type FSWatcher } from "node:fs";

export function watchFolder(dir: string, onChange: () => void, options: { debounceMs?: number; onError?: (error: unknown) => void } = {}): () => void {
  const debounceMs = options.debounceMs ?? 100;
  let timer: NodeJS.Timeout | undefined;
  let watcher: FSWatcher | undefined = watch(dir, { recursive: true }, (_event, name) => {
    const path = typeof name === "string" ? name : "";
    if (path.split(/[\\/]/).some((part) => part === "node_modules" || part.startsWith("."))) return;
    clearTimeout(timer);
    timer = setTimeout(onChange, debounceMs);
  });
  watcher.on("error", (error) => options.onError?.(error));
  return () => {
    clearTimeout(timer);
    watcher?.close();
    watcher = undefined;
  };
}
