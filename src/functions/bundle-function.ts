/**
 * Bundles one function file with esbuild into an ES module on disk, ready to `import()`.
 * TypeScript, ESM and CommonJS sources alike; a syntax error becomes a FunctionBuildError
 * carrying esbuild's message (file:line:column and a code frame).
 *
 * ```ts
 * const bundle = await bundleFunction("functions/resize.ts");
 * const mod = await import(pathToFileURL(bundle.outfile).href);
 * ```
 *
 * Two modes:
 * - `cache` (what `mario host` and `mario up` load): the user's own files are bundled; imports of
 *   npm packages stay external and the bundle is written to the cache folder (`cacheRoot()`:
 *   `--cache-dir` / MARIO_CACHE_DIR, else XDG_CACHE_HOME, else the OS temp folder; never inside
 *   the project, which may be read-only). A `node_modules` link next to the bundles points at the
 *   project's own, so Node resolves packages exactly as the project installed them.
 *   Why external: native addons (zeromq, sharp…) cannot be bundled, a package keeps one copy
 *   (and its singletons), and a rebuild under `--watch` takes milliseconds.
 * - `standalone` (`mario build`): packages are bundled too, so the output runs in an image with
 *   nothing but mario installed.
 * In both, `import … from "mario-pipelines"` (or a subpath of its exports map) means this package:
 * in cache mode it points at this package's own files (the compiled dist/ when installed, the
 * sources in a checkout), in standalone mode it stays a bare import resolved in the image. The old
 * spelling `"mario"` is accepted as the same package.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readlink, rename, symlink, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, extname, join, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as esbuild from "esbuild";
import { OLD_NAME, ownModule, ownPackage } from "../_own-package.ts";
import { FunctionBuildError } from "./errors/function-build-error.ts";

export type BundleMode = "cache" | "standalone";

export interface BundleOptions {
  /** Default `cache`. */
  mode?: BundleMode | undefined;
  /** Cache mode: the folder bundles go to. Default: `defaultCacheDir(file)`. */
  cacheDir?: string | undefined;
  /** Standalone mode: the file to write (required). */
  outfile?: string | undefined;
  /** Standalone mode: packages kept out of the bundle (native addons). Default none. */
  external?: readonly string[] | undefined;
}

export interface BundledFunction {
  /** The source file, absolute. */
  file: string;
  /** The ES module written, absolute. */
  outfile: string;
  /** Content hash of the bundle: an unchanged source gives the same hash. */
  hash: string;
  /** The bundle imports TypeScript files (this package's sources), so it loads through tsx. */
  needsTsx: boolean;
}

/** Declares `require` for CommonJS code bundled into an ES module (`require("fs")` etc.). */
const REQUIRE_BANNER = 'const require = (await import("node:module")).createRequire(import.meta.url);';
const PACKAGE_NAME = ownPackage().json.name;
const OWN_FOLDERS = ["src", "adapters", "dist"].map((dir) => join(fileURLToPath(ownPackage().root), dir) + sep);
const escape = (name: string): string => name.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
const MARIO_IMPORT = new RegExp(`^(?:${escape(PACKAGE_NAME)}|${escape(OLD_NAME)})(?:/.*)?$`);
const TS_FILE = /\.[cm]?tsx?$/;

export async function bundleFunction(file: string, options: BundleOptions = {}): Promise<BundledFunction> {
  const source = resolve(file);
  const mode = options.mode ?? "cache";
  const cacheDir = options.cacheDir ?? defaultCacheDir(source);
  if (mode === "cache") await linkPackages(source, cacheDir);
  const draftOut = mode === "standalone" ? resolve(requireOutfile(options.outfile)) : join(cacheDir, `${basename(source, extname(source))}.mjs`);
  let result: esbuild.BuildResult<{ write: false; metafile: true }>;
  try {
    result = await esbuild.build({
      entryPoints: [source],
      outfile: draftOut,
      bundle: true,
      write: false,
      metafile: true,
      platform: "node",
      format: "esm",
      target: "node20",
      logLevel: "silent",
      sourcemap: mode === "cache" ? "inline" : false,
      packages: mode === "cache" ? "external" : undefined,
      external: mode === "standalone" ? [...(options.external ?? [])] : undefined,
      banner: { js: REQUIRE_BANNER },
      // Cache mode runs the bundle from another folder: keep the source's own location visible.
      define: mode === "cache" ? { __dirname: JSON.stringify(dirname(source)), __filename: JSON.stringify(source) } : undefined,
      plugins: [marioImportPlugin(mode)],
    });
  } catch (error) {
    throw buildError(file, error);
  }
  const output = result.outputFiles.find((f) => f.path.endsWith(".mjs")) ?? result.outputFiles[0];
  if (output === undefined) throw new FunctionBuildError(source, `${source}: esbuild produced no output`);
  const hash = createHash("sha256").update(output.contents).digest("hex").slice(0, 16);
  const outfile = mode === "standalone" ? draftOut : join(cacheDir, `${basename(source, extname(source))}-${hash}.mjs`);
  if (mode === "standalone" || !existsSync(outfile)) await writeAtomically(outfile, output.contents);
  const imports = Object.values(result.metafile.outputs).flatMap((o) => o.imports);
  const needsTsx = imports.some((i) => i.external && TS_FILE.test(i.path));
  return { file: source, outfile, hash, needsTsx };
}

/**
 * The folder Mario writes to at run time: `--cache-dir` / MARIO_CACHE_DIR, else
 * `$XDG_CACHE_HOME/mario`, else `<os tmp>/mario-<uid>`.
 */
export function cacheRoot(): string {
  const explicit = process.env.MARIO_CACHE_DIR;
  if (explicit !== undefined && explicit !== "") return resolve(explicit);
  const xdg = process.env.XDG_CACHE_HOME;
  if (xdg !== undefined && xdg !== "") return join(resolve(xdg), "mario");
  return join(tmpdir(), `mario-${process.getuid?.() ?? "user"}`);
}

/** `<cacheRoot>/functions/<project key>`: one folder per project (the folder holding node_modules). */
export function defaultCacheDir(file: string): string {
  const project = projectOf(file);
  const key = project === undefined ? "no-project" : `${basename(project).replace(/[^\w.-]/g, "_")}-${createHash("sha256").update(project).digest("hex").slice(0, 12)}`;
  return join(cacheRoot(), "functions", key);
}

/** The nearest folder above `file` holding `node_modules`, where its bare imports resolve. */
function projectOf(file: string): string | undefined {
  for (let dir = dirname(resolve(file)); ; dir = dirname(dir)) {
    if (existsSync(join(dir, "node_modules"))) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

/** `<cacheDir>/node_modules` → the project's, so a bundle's external imports resolve from there. */
async function linkPackages(source: string, cacheDir: string): Promise<void> {
  const project = projectOf(source);
  if (project === undefined || resolve(cacheDir).startsWith(project + "/")) return;
  const target = join(project, "node_modules");
  const link = join(cacheDir, "node_modules");
  const current = await readlink(link).catch(() => undefined);
  if (current === target) return;
  await mkdir(cacheDir, { recursive: true });
  if (current !== undefined) await unlink(link);
  try {
    await symlink(target, link, "dir");
  } catch (error) {
    // Another process (a second host on a shared cache) made the same link at the same moment.
    if ((error as NodeJS.ErrnoException).code !== "EEXIST" || (await readlink(link).catch(() => undefined)) !== target) throw error;
  }
}

/** The file an import of `mario-pipelines` or `mario-pipelines/<sub>` names in this package. */
export function resolveMarioImport(specifier: string): string {
  const url = ownModule(specifier);
  if (url === undefined) throw new Error(`"${specifier}" is not exported by ${PACKAGE_NAME} (see the "exports" of its package.json: "${PACKAGE_NAME}", "${PACKAGE_NAME}/client", "${PACKAGE_NAME}/adapters/<name>"…)`);
  return url;
}

/** `mario/<sub>` (the old name) → `mario-pipelines/<sub>`; the package's own name unchanged. */
function withOwnName(specifier: string): string {
  const isOwn = specifier === PACKAGE_NAME || specifier.startsWith(`${PACKAGE_NAME}/`);
  return isOwn ? specifier : PACKAGE_NAME + specifier.slice(OLD_NAME.length);
}

function marioImportPlugin(mode: BundleMode): esbuild.Plugin {
  return {
    name: "mario-import",
    setup(build) {
      build.onResolve({ filter: MARIO_IMPORT }, (args) => {
        // Standalone bundles import the package by its name, resolved where they run (the image).
        if (mode === "standalone") return { path: withOwnName(args.path), external: true };
        try {
          return { path: resolveMarioImport(args.path), external: true };
        } catch (error) {
          return { errors: [{ text: (error as Error).message }] };
        }
      });
      // A relative import of this package's own files (a test fixture's "../src/index.ts") stays
      // an import of those very files in cache mode, so classes keep their identity (Step, Pipeline).
      if (mode === "cache") {
        build.onResolve({ filter: /^\.\.?\// }, (args) => {
          const target = resolve(args.resolveDir, args.path);
          return OWN_FOLDERS.some((dir) => target.startsWith(dir)) ? { path: pathToFileURL(target).href, external: true } : undefined;
        });
      }
    },
  };
}

function buildError(file: string, error: unknown): FunctionBuildError {
  const errors = (error as { errors?: esbuild.Message[] }).errors;
  if (Array.isArray(errors) && errors.length > 0) {
    const text = esbuild.formatMessagesSync(errors, { kind: "error", color: false }).join("").trim();
    return new FunctionBuildError(file, `${file}: build failed\n${text}`, { cause: error });
  }
  return new FunctionBuildError(file, `${file}: build failed: ${(error as Error).message}`, { cause: error });
}

function requireOutfile(outfile: string | undefined): string {
  if (outfile === undefined) throw new Error("bundleFunction: standalone mode needs an outfile");
  return outfile;
}

async function writeAtomically(file: string, contents: Uint8Array): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(temp, contents);
  await rename(temp, file);
}

/** A bundle's `import()` URL. */
export function bundleUrl(bundle: BundledFunction): string {
  return pathToFileURL(bundle.outfile).href;
}
