/**
 * `mario` CLI child processes for e2e tests: start `node bin/mario.js …`, wait for a line of its
 * output (a "ready" log line), stop it by pid, and always clean up.
 *
 * ```ts
 * const procs = new MarioProcesses();
 * after(() => procs.stopAll());                       // SIGKILLs whatever is still running
 * const server = procs.start(["pipeline", "examples/simple.ts", "example-one", `--sub-bind=${sub}`, `--job-pull-bind=${pull}`]);
 * await server.waitForLine(/pipeline server ready/);
 * const { code, stdout } = await runMario(["enqueue", pull, "example-one", '{"size": 10}', "--wait"]);
 * const exit = await server.stop();                   // SIGTERM, then waits: { code: 0, signal: null }
 * ```
 *
 * Children run with MARIO_LOG_LEVEL=info and MARIO_LOG_FORMAT=json (so "ready" lines are printed
 * even when the test runner sets a quieter level); pass `env` to override.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const MARIO_BIN = fileURLToPath(new URL("../../bin/mario.js", import.meta.url));

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface StartOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Runs this instead of `node bin/mario.js` (the args follow it), e.g. another script or program. */
  command?: readonly string[];
  /** Put before the command, e.g. `["ip", "netns", "exec", ns]` (which execs it: same pid). */
  prefix?: readonly string[];
  /** A pipe to the child's stdin (`child.stdin`) instead of none. */
  stdin?: boolean;
}

export class MarioProcess {
  readonly args: readonly string[];
  readonly child: ChildProcess;
  readonly exited: Promise<Exit>;
  #stdout = "";
  #stderr = "";
  #exit: Exit | undefined;
  readonly #lineWaiters = new Set<() => void>();

  constructor(args: readonly string[], options: StartOptions = {}) {
    this.args = args;
    const argv = [...(options.prefix ?? []), ...(options.command ?? [process.execPath, MARIO_BIN]), ...args];
    this.child = spawn(argv[0]!, argv.slice(1), {
      cwd: options.cwd ?? REPO_ROOT,
      env: { ...process.env, MARIO_LOG_LEVEL: "info", MARIO_LOG_FORMAT: "json", ...options.env },
      stdio: [options.stdin === true ? "pipe" : "ignore", "pipe", "pipe"],
    });
    this.child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      this.#stdout += chunk;
      this.#notify();
    });
    this.child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      this.#stderr += chunk;
      this.#notify();
    });
    this.exited = new Promise((resolve) => {
      this.child.once("exit", (code, signal) => {
        this.#exit = { code, signal };
        this.#notify();
        resolve(this.#exit);
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get stdout(): string {
    return this.#stdout;
  }

  get stderr(): string {
    return this.#stderr;
  }

  get running(): boolean {
    return this.#exit === undefined;
  }

  /**
   * Resolves with the first line of stdout or stderr matching `pattern`. Rejects if the process
   * exits first or after `timeoutMs` (default 60 000), with the output so far in the message.
   */
  async waitForLine(pattern: RegExp, timeoutMs = 60_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = (this.#stdout + "\n" + this.#stderr).split("\n").find((l) => pattern.test(l));
      if (line !== undefined) return line;
      if (this.#exit !== undefined) throw new Error(`mario ${this.args[0]} exited (${JSON.stringify(this.#exit)}) before printing ${pattern}:\n${this.#stderr}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`mario ${this.args[0]} printed no line matching ${pattern} within ${timeoutMs} ms:\n${this.#stderr}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
        this.#lineWaiters.add(done);
      });
    }
  }

  /** Reads a JSON log line's field, e.g. the `address` of "step worker ready". */
  async waitForLogField(message: RegExp, field: string, timeoutMs?: number): Promise<unknown> {
    const line = await this.waitForLine(message, timeoutMs);
    return (JSON.parse(line) as Record<string, unknown>)[field];
  }

  /** Sends `signal` (default SIGTERM) to this pid and waits for the exit (SIGKILL after `timeoutMs`). */
  async stop(signal: NodeJS.Signals = "SIGTERM", timeoutMs = 30_000): Promise<Exit> {
    if (this.#exit !== undefined) return this.#exit;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill("SIGKILL"), timeoutMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }

  /** SIGKILL, no grace. */
  async kill(): Promise<Exit> {
    return this.stop("SIGKILL");
  }

  #notify(): void {
    for (const waiter of [...this.#lineWaiters]) waiter();
    this.#lineWaiters.clear();
  }
}

/** A set of children started by one test file; `stopAll()` in `after` cleans up even on failure. */
export class MarioProcesses {
  readonly #all: MarioProcess[] = [];

  start(args: readonly string[], options?: StartOptions): MarioProcess {
    const proc = new MarioProcess(args, options);
    this.#all.push(proc);
    return proc;
  }

  /** SIGTERMs every child still running (SIGKILL after `graceMs`) and waits for them. */
  async stopAll(graceMs = 5000): Promise<void> {
    await Promise.all(this.#all.map((p) => p.stop("SIGTERM", graceMs)));
  }
}

/** Runs one `mario` command to its end. Kills it (SIGKILL) after `timeoutMs` (default 30 000). */
export async function runMario(
  args: readonly string[],
  options: StartOptions & { timeoutMs?: number } = {},
): Promise<Exit & { stdout: string; stderr: string; durationMs: number }> {
  const started = Date.now();
  const proc = new MarioProcess(args, options);
  const timer = setTimeout(() => proc.child.kill("SIGKILL"), options.timeoutMs ?? 30_000);
  const exit = await proc.exited;
  clearTimeout(timer);
  // Let the pipes drain.
  await new Promise((resolve) => setImmediate(resolve));
  return { ...exit, stdout: proc.stdout, stderr: proc.stderr, durationMs: Date.now() - started };
}
