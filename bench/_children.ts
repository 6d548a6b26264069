/** Child processes of the benchmark: started with tsx, "ready" read from stdout/stderr or IPC, stopped by pid. */
import { fork, spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";

export interface ReadyChild {
  pid: number;
  child: ChildProcess;
  /** Lines printed (stdout and stderr). */
  lines: string[];
}

/**
 * Starts `node --import tsx <script> ...args` (or `node bin/mario.js ...` when script is "mario")
 * and waits for `readyPattern` on stdout or stderr.
 */
export async function spawnReady(
  script: string,
  args: string[],
  options: { readyPattern?: RegExp; timeoutMs?: number; env?: Record<string, string>; nodeArgs?: string[] } = {},
): Promise<ReadyChild> {
  const readyPattern = options.readyPattern ?? /ready/;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const argv = script === "mario" ? ["bin/mario.js", ...args] : ["--import", "tsx", script, ...args];
  const label = script === "mario" ? args.slice(0, 3).join("-") : script;
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), ...nodeFlags(label), ...argv], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, MARIO_LOG_LEVEL: "warn", ...options.env },
  });
  const lines: string[] = [];
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} ${args.join(" ")}: not ready within ${timeoutMs} ms\n${lines.join("\n")}`)), timeoutMs);
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on("line", (line) => {
        if (lines.length < 1000) lines.push(line);
        if (readyPattern.test(line)) {
          clearTimeout(timer);
          resolve();
        }
      });
    }
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code} before it was ready\n${lines.join("\n")}`));
    });
  });
  await ready;
  return { pid: child.pid!, child, lines };
}

/** Forks `script` (through tsx) with an IPC channel and resolves with its first message of type "ready". */
export async function forkReady<T extends { type: string }>(script: string, args: string[], timeoutMs = 30_000): Promise<{ ready: ReadyChild; message: T }> {
  const child = fork(script, args, {
    execArgv: ["--import", "tsx", ...nodeFlags(script)],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    env: { ...process.env, MARIO_LOG_LEVEL: "warn" },
  });
  const message = await new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script}: not ready within ${timeoutMs} ms`)), timeoutMs);
    child.on("message", (m: T) => {
      if (m.type !== "ready") return;
      clearTimeout(timer);
      resolve(m);
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code} before it was ready`));
    });
  });
  return { ready: { pid: child.pid!, child, lines: [] }, message };
}

/** Sends `message` to a forked child and resolves with its next message of type `type`. */
export function ask<T extends { type: string }>(child: ChildProcess, message: unknown, type: string, timeoutMs = 600_000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off("message", onMessage);
      reject(new Error(`no "${type}" message within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (m: T): void => {
      if (m.type !== type) return;
      clearTimeout(timer);
      child.off("message", onMessage);
      resolve(m);
    };
    child.on("message", onMessage);
    child.send(message as object);
  });
}

/** Waits for the next message of `type` from a forked child. */
export function nextMessage<T extends { type: string }>(child: ChildProcess, type: string, timeoutMs = 600_000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off("message", onMessage);
      reject(new Error(`no "${type}" message within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (m: T): void => {
      if (m.type !== type) return;
      clearTimeout(timer);
      child.off("message", onMessage);
      resolve(m);
    };
    child.on("message", onMessage);
  });
}

/** SIGTERM by pid, SIGKILL after 5 s; resolves when it exited. */
export async function stopChild(ready: ReadyChild): Promise<void> {
  if (ready.child.exitCode !== null || ready.child.signalCode !== null) return;
  const exited = once(ready.child, "exit");
  ready.child.kill("SIGTERM");
  const timer = setTimeout(() => ready.child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}

/**
 * Extra node flags for a child: `BENCH_CPU_PROF=dir` profiles every child (`--cpu-prof`), one
 * folder of .cpuprofile files per process in `dir`, named after the script (or the mario command).
 */
function nodeFlags(label: string): string[] {
  const dir = process.env.BENCH_CPU_PROF;
  if (dir === undefined || dir === "") return [];
  // One folder per process: node names each thread's profile itself (the tsx loader thread too).
  const name = label.replace(/[^a-z0-9]+/gi, "-");
  return ["--cpu-prof", `--cpu-prof-dir=${dir}/${name}-${Date.now()}`];
}
