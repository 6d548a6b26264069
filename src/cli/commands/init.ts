/**
 * `mario init [dir]`: writes a new project that `npm install && npx mario up` runs: package.json
 * (depending on this package), mario.config.ts, functions/hello.ts, tsconfig.json, .gitignore and
 * project.Dockerfile (an image of the project's functions; see the README's Docker section).
 * A file that exists is never overwritten: it is skipped, and said so on one line; a functions/
 * folder that already holds files gets no example. Nothing to write at all is exit code 1.
 *
 *   mario init my-app     →  my-app/package.json, my-app/mario.config.ts, my-app/functions/hello.ts…
 */
import { defineCommand } from "citty";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { basename, join, relative, resolve } from "node:path";
import { ownPackage } from "../../_own-package.ts";
import { CONFIG_FILES } from "../../config/mario-config.ts";
import { UsageError } from "../../core/errors/usage-error.ts";

/** One file init writes: its path in the project, its text, and what counts as "already there". */
interface Template {
  path: string;
  text: (project: ProjectInfo) => string;
  /** Other paths whose presence keeps this file from being written (another spelling of it). */
  alternatives?: readonly string[];
}

interface ProjectInfo {
  name: string;
  packageName: string;
  packageVersion: string;
  devDependencies: Record<string, string>;
}

const EXAMPLE_FUNCTION = "functions/hello.ts";

/** The container file: docker/project.Dockerfile of this package, as the README's Docker section uses it. */
const containerFile = (): string => readFileSync(new URL("docker/project.Dockerfile", ownPackage().root), "utf8");

const jsonFile = (value: unknown): string => JSON.stringify(value, null, 2) + "\n";

/** The files of a new project, in the order they are written. */
export const TEMPLATES: readonly Template[] = [
  {
    path: "package.json",
    text: (p) =>
      jsonFile({
        name: p.name,
        version: "0.1.0",
        private: true,
        type: "module",
        scripts: { start: "mario up", typecheck: "tsc --noEmit", build: "mario build functions" },
        dependencies: { [p.packageName]: `^${p.packageVersion}` },
        devDependencies: p.devDependencies,
      }),
  },
  {
    path: "mario.config.ts",
    alternatives: CONFIG_FILES,
    text: (p) => `import { defineConfig } from "${p.packageName}";

// Pipelines: ordered lists of job types (a job type is a file name of functions/). Every function
// is also a one-step pipeline of its own name, so "hello" can be called without declaring it.
export default defineConfig({
  functions: "functions",
  pipelines: {
    greet: ["hello"],
  },
});
`,
  },
  {
    path: EXAMPLE_FUNCTION,
    text: (p) => `import type { StepContext } from "${p.packageName}";

/** Optional: how this step runs (concurrency, timeoutMs, retries, backoff). */
export const config = { concurrency: 4, timeoutMs: 10_000, retries: 2 };
/** Optional: instructions this step accepts; \`mario up\` puts them in the curl line it prints. */
export const example = { name: "world" };

/** A step: instructions in (a JSON object), a JSON output out: the next step's instructions. */
export default async function hello(instructions: { name?: string }, ctx: StepContext) {
  const name = instructions.name ?? "world";
  ctx.logger.info("greeting", { name, attempt: ctx.attempt });
  return { greeting: \`Hello, \${name}!\` };
}
`,
  },
  {
    path: "tsconfig.json",
    text: () =>
      jsonFile({
        // Type checking only (npm run typecheck): mario bundles the functions itself, with esbuild.
        compilerOptions: { target: "ES2022", module: "preserve", moduleResolution: "bundler", strict: true, noEmit: true, skipLibCheck: true, types: ["node"] },
        include: ["functions", "mario.config.ts"],
      }),
  },
  { path: ".gitignore", text: () => "node_modules/\ndist/\n*.log\n" },
  // An image of the project's functions on the Mario image: docker build -f project.Dockerfile -t my-functions .
  { path: "project.Dockerfile", text: containerFile },
];

export interface InitResult {
  written: string[];
  kept: { path: string; reason: string }[];
}

/** Writes the templates into `dir` (created when missing), never over an existing file. */
export async function initProject(dir: string): Promise<InitResult> {
  const root = resolve(dir);
  if (existsSync(root) && !statSync(root).isDirectory()) throw new UsageError(`${dir} exists and is not a folder`);
  const info = projectInfo(root);
  const result: InitResult = { written: [], kept: [] };
  for (const template of TEMPLATES) {
    const reason = whyKeep(root, template);
    if (reason !== undefined) {
      result.kept.push({ path: template.path, reason });
      continue;
    }
    const file = join(root, template.path);
    await mkdir(join(file, ".."), { recursive: true });
    // flag "wx": fails rather than overwrite, should the file appear in between.
    await writeFile(file, template.text(info), { flag: "wx" });
    result.written.push(template.path);
  }
  return result;
}

function whyKeep(root: string, template: Template): string | undefined {
  const existing = [template.path, ...(template.alternatives ?? [])].find((p) => existsSync(join(root, p)));
  if (existing !== undefined) return existing === template.path ? "it exists" : `${existing} exists`;
  if (template.path === EXAMPLE_FUNCTION) {
    const functions = join(root, "functions");
    if (existsSync(functions) && readdirSync(functions).length > 0) return "functions/ already holds files";
  }
  return undefined;
}

function projectInfo(root: string): ProjectInfo {
  const own = ownPackage().json as { name: string; version: string; devDependencies?: Record<string, string> };
  const dev = own.devDependencies ?? {};
  return {
    name: npmName(basename(root)),
    packageName: own.name,
    packageVersion: own.version,
    // The versions this package is built and tested with.
    devDependencies: { "@types/node": dev["@types/node"] ?? "^20.0.0", typescript: dev.typescript ?? "^5.0.0" },
  };
}

/** A folder name as an npm package name: lowercase, URL-safe characters, no leading dot or underscore. */
export function npmName(folder: string): string {
  const name = folder
    .toLowerCase()
    .replace(/[^a-z0-9._~-]+/g, "-")
    .replace(/^[._-]+/, "")
    .replace(/-+$/, "")
    .slice(0, 214);
  return name === "" ? "mario-project" : name;
}

export default defineCommand({
  meta: { name: "init", description: "Write a new project: package.json, mario.config.ts, functions/hello.ts, tsconfig.json, .gitignore, project.Dockerfile (never overwrites)" },
  args: {
    dir: { type: "positional", required: false, default: ".", description: "project folder (default: the current folder; created when missing)" },
  },
  async run({ args }) {
    const { written, kept } = await initProject(args.dir);
    if (written.length === 0) {
      process.stderr.write(`mario init: nothing written: ${args.dir} already holds every file init writes (it never overwrites)\n`);
      return 1;
    }
    const shown = (path: string): string => relative(process.cwd(), join(resolve(args.dir), path)) || path;
    for (const path of written) process.stdout.write(`wrote ${shown(path)}\n`);
    for (const { path, reason } of kept) process.stdout.write(`skipped ${shown(path)}: ${reason} (init never overwrites)\n`);
    const cd = resolve(args.dir) === process.cwd() ? "" : `  cd ${relative(process.cwd(), resolve(args.dir)) || args.dir}\n`;
    process.stdout.write(`\nnext steps:\n${cd}  npm install && npx mario up\n`);
    return 0;
  },
});
