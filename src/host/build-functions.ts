/**
 * `mario build`: bundles every function of a folder into one self-contained ES module each
 * (npm packages included, `mario` left as an import resolved where the bundle runs), for images.
 * `mario host <outdir>` serves the output exactly as it serves the sources.
 *
 * ```ts
 * const { built, problems } = await buildFunctions("functions", "dist/functions");
 * ```
 */
import { stat } from "node:fs/promises";
import { basename, extname, join, resolve } from "node:path";
import { MarioError } from "../core/errors/mario-error.ts";
import { bundleFunction } from "../functions/bundle-function.ts";
import { listFunctionFiles } from "../functions/load-functions.ts";
import type { FunctionProblem } from "./function-host.ts";
import { ThreadExecutor } from "./thread-executor.ts";

export interface BuildOptions {
  /** Packages kept out of the bundles (native addons), installed next to them instead. Default none. */
  external?: readonly string[] | undefined;
  /** Load each bundle once in a thread to check it fits a handler shape. Default true. */
  check?: boolean | undefined;
}

export interface BuiltFunction {
  file: string;
  outfile: string;
  bytes: number;
  /** Known when checked. */
  jobType?: string | undefined;
  shape?: string | undefined;
}

export async function buildFunctions(dir: string, outdir: string, options: BuildOptions = {}): Promise<{ built: BuiltFunction[]; problems: FunctionProblem[] }> {
  const built: BuiltFunction[] = [];
  const problems: FunctionProblem[] = [];
  const taken = new Map<string, string>();
  for (const file of await listFunctionFiles(dir)) {
    const outfile = resolve(join(outdir, `${basename(file, extname(file))}.mjs`));
    const clash = taken.get(outfile);
    if (clash !== undefined) {
      problems.push({ file, message: `${file}: would overwrite ${outfile}, already built from ${clash}` });
      continue;
    }
    taken.set(outfile, file);
    try {
      const bundle = await bundleFunction(file, { mode: "standalone", outfile, external: options.external });
      const result: BuiltFunction = { file, outfile, bytes: (await stat(outfile)).size };
      if (options.check !== false) {
        const executor = await ThreadExecutor.load(await bundleFunction(bundle.outfile));
        result.jobType = executor.jobType;
        result.shape = executor.shape;
        await executor.close();
      }
      built.push(result);
    } catch (error) {
      problems.push({ file, message: error instanceof MarioError ? error.message : `${file}: ${(error as Error).message}` });
    }
  }
  return { built, problems };
}
