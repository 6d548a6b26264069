/**
 * The `mario` command line. Subcommands are loaded lazily, one file each in `commands/`.
 * Only this entry point sets the exit code; user errors print one line, never a stack.
 */
import { resolve } from "node:path";
import { defineCommand, renderUsage, runCommand, type ArgsDef, type CommandDef } from "citty";
import { InvalidConfigError } from "../core/errors/invalid-config-error.ts";
import { MarioError } from "../core/errors/mario-error.ts";
import { UsageError } from "../core/errors/usage-error.ts";
import { ownPackage } from "../_own-package.ts";
import { flagValues } from "./_flags.ts";
import { fixAliases, unknownFlag } from "./_usage.ts";

const pkg = ownPackage().json;

type Lazy = () => Promise<CommandDef>;
const lazy = (load: () => Promise<{ default: unknown }>): Lazy => async () => (await load()).default as CommandDef;

export const subCommands: Record<string, Lazy> = {
  up: lazy(() => import("./commands/up.ts")),
  pipeline: lazy(() => import("./commands/pipeline.ts")),
  step: lazy(() => import("./commands/step.ts")),
  enqueue: lazy(() => import("./commands/enqueue.ts")),
  forwarder: lazy(() => import("./commands/forwarder.ts")),
  streamer: lazy(() => import("./commands/streamer.ts")),
  build: lazy(() => import("./commands/build.ts")),
  host: lazy(() => import("./commands/host.ts")),
  gateway: lazy(() => import("./commands/gateway.ts")),
  keygen: lazy(() => import("./commands/keygen.ts")),
  init: lazy(() => import("./commands/init.ts")),
  logs: lazy(() => import("./commands/logs.ts")),
  cancel: lazy(() => import("./commands/cancel.ts")),
};

export const root = defineCommand({
  meta: { name: "mario", version: pkg.version, description: "Pipelines of steps across processes and machines." },
  subCommands,
});

/** Runs the CLI with `argv` (without node and script). Returns the exit code. */
export async function run(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write((await renderUsage(root)) + "\n");
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "-v") {
    process.stdout.write(pkg.version + "\n");
    return 0;
  }
  const load = subCommands[name];
  if (load === undefined) {
    process.stderr.write(`mario: unknown command "${name}"; commands: ${Object.keys(subCommands).join(", ")} (see mario --help)\n`);
    return 2;
  }
  const command = await load();
  if (rest.includes("--help") || rest.includes("-h")) {
    process.stdout.write(fixAliases(await renderUsage(command, root as CommandDef), command) + "\n");
    return 0;
  }
  if (rest.includes("--version")) {
    process.stdout.write(pkg.version + "\n");
    return 0;
  }
  const unknown = unknownFlag(rest, (command.args ?? {}) as ArgsDef);
  if (unknown !== undefined) {
    process.stderr.write(`mario ${name}: unknown flag ${unknown} (see mario ${name} --help)\n`);
    return 2;
  }
  // --cache-dir configures the whole process (bundling happens deep below the commands).
  const cacheDir = flagValues(rest, ["cache-dir"]).at(-1);
  if (cacheDir !== undefined && cacheDir !== "") process.env.MARIO_CACHE_DIR = resolve(cacheDir);
  try {
    const { result } = await runCommand(command, { rawArgs: rest });
    return typeof result === "number" ? result : 0;
  } catch (error) {
    if (error instanceof MarioError) {
      process.stderr.write(`mario ${name}: ${error.message}\n`);
      return error instanceof InvalidConfigError || error instanceof UsageError ? 2 : 1;
    }
    if (error instanceof Error && error.name === "CLIError") {
      process.stderr.write(`mario ${name}: ${error.message} (see mario ${name} --help)\n`);
      return 2;
    }
    process.stderr.write(`mario ${name}: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 1;
  }
}

export async function main(argv: string[]): Promise<void> {
  const code = await run(argv);
  process.exitCode = code;
  // Servers have closed their handles by now; exit in case a library left one open.
  setTimeout(() => process.exit(code), 1500).unref();
}
