/**
 * `mario build [dir] --outdir=dist/functions`: bundles each function with esbuild into one
 * self-contained ES module for images; `mario host dist/functions` serves them.
 */
import { defineCommand } from "citty";
import { relative } from "node:path";
import { buildFunctions } from "../../host/build-functions.ts";
import { cacheDirFlag } from "../_flags.ts";

export default defineCommand({
  meta: { name: "build", description: "Bundle every function with esbuild into self-contained modules (for images)" },
  args: {
    ...cacheDirFlag,
    dir: { type: "positional", required: false, default: "functions", description: "functions folder (default functions/)" },
    outdir: { type: "string", default: "dist/functions", description: "where the bundles go (default dist/functions)" },
    external: { type: "string", description: "comma-separated packages left out of the bundles (native addons); install them next to the bundles" },
    check: { type: "boolean", default: true, description: "load each bundle once to check its handler shape (--no-check skips)" },
  },
  async run({ args }) {
    const external = (args.external ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "");
    const { built, problems } = await buildFunctions(args.dir, args.outdir, { external, check: args.check });
    for (const fn of built) {
      const what = fn.jobType === undefined ? "" : ` (${fn.jobType}, ${fn.shape})`;
      process.stdout.write(`built ${relative(process.cwd(), fn.file)} → ${relative(process.cwd(), fn.outfile)}${what} ${(fn.bytes / 1024).toFixed(1)} KiB\n`);
    }
    for (const problem of problems) process.stderr.write(`mario build: ${problem.message}\n`);
    if (built.length === 0 && problems.length === 0) process.stderr.write(`mario build: no function files in ${args.dir}\n`);
    return problems.length > 0 || built.length === 0 ? 1 : 0;
  },
});
