/**
 * Calls `onChange` once things have settled after files change under the watched paths
 * (chokidar, with a debounce: an editor's save is several events). `node_modules` and dot
 * folders/files are ignored.
 *
 * chokidar, not a bare `fs.watch`: an atomic save (`sed -i`, an editor writing a temp file and
 * renaming it over the original) replaces the file's inode, and a watch on the old inode goes
 * silent for good. chokidar follows the path, so in-place writes, `rename(tmp → file)`,
 * delete-then-create and new files all keep reporting.
 *
 * ```ts
 * const stop = await watchFolder("functions", () => void host.reload(), { debounceMs: 100 });
 * await stop();
 * ```
 */
import { watch } from "chokidar";
import { basename, relative, resolve, sep } from "node:path";

export interface WatchOptions {
  /** Quiet time after the last event before `onChange`, ms. Default 100. */
  debounceMs?: number | undefined;
  onError?: ((error: unknown) => void) | undefined;
}

/**
 * Watches `paths` (folders, recursively, or single files). Resolves once the watch is armed (a
 * change after that is seen) with a function that stops it.
 */
export async function watchFolder(paths: string | readonly string[], onChange: () => void, options: WatchOptions = {}): Promise<() => Promise<void>> {
  const debounceMs = options.debounceMs ?? 100;
  let timer: NodeJS.Timeout | undefined;
  const roots = (typeof paths === "string" ? [paths] : [...paths]).map((path) => resolve(path));
  const watcher = watch(roots, { ignoreInitial: true, ignored: (path) => ignored(roots, path) });
  watcher.on("all", () => {
    clearTimeout(timer);
    timer = setTimeout(onChange, debounceMs);
  });
  watcher.on("error", (error) => options.onError?.(error));
  await new Promise<void>((resolve) => watcher.once("ready", resolve));
  return async () => {
    clearTimeout(timer);
    await watcher.close();
  };
}

/** Only what lies below a watched root counts (a project may live under a dot folder). */
function ignored(roots: readonly string[], path: string): boolean {
  const absolute = resolve(path);
  const root = roots.find((r) => absolute === r || absolute.startsWith(r + sep));
  if (root === undefined || absolute === root) return false;
  const parts = relative(root, absolute).split(sep);
  return parts.some((part) => part === "node_modules" || part.startsWith(".")) || isEditorTemp(basename(absolute));
}

/** Swap and backup files editors write beside the real one (vim `4913`, `file~`, `.swp`). */
function isEditorTemp(name: string): boolean {
  return name.endsWith("~") || name.endsWith(".swp") || name === "4913";
}
