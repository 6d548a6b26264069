/**
 * Browser test support: Debian's Chromium driven by playwright-core (no browser download), a
 * throwaway project whose functions include one that always throws, and a way to serve it.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser } from "playwright-core";
import type { Cluster } from "../../src/engine/cluster.ts";

export const CHROMIUM_PATH = "/usr/bin/chromium";

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}

/**
 * A project: `echo` (returns its input, marked), `shout` (upper-cases `text`), `boom` (always
 * throws, no retries) and a two-step pipeline `relay` = echo → shout. Removed by `remove()`.
 */
export function makeProject(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "mario-dashboard-"));
  mkdirSync(join(dir, "functions"));
  writeFileSync(
    join(dir, "functions", "echo.mjs"),
    `export const config = { concurrency: 2 };
export default async function echo(instructions) {
  await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 60));
  return { ...instructions, echoed: true };
}
`,
  );
  writeFileSync(
    join(dir, "functions", "shout.mjs"),
    `export default async function shout(instructions) {
  return { ...instructions, text: String(instructions.text ?? "hello").toUpperCase() };
}
`,
  );
  writeFileSync(
    join(dir, "functions", "boom.mjs"),
    `export const config = { retries: 0 };
export default async function boom(instructions) {
  throw new RangeError("boom: the reactor overheated at level " + (instructions.level ?? 0));
}
`,
  );
  writeFileSync(join(dir, "mario.config.json"), JSON.stringify({ functions: "functions", pipelines: { relay: ["echo", "shout"] } }, null, 2));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface Served {
  url: string;
  stop(): Promise<void>;
}

/**
 * Serves `dir` in this process the way `mario up` does: a LocalRunner on memory storage behind
 * the gateway app (JSON routes + dashboard) on 127.0.0.1, random port. `wrap` may decorate the
 * cluster the gateway sees (to count listeners, to add remote workers).
 */
export async function serveInProcess(dir: string, options: { token?: string; wrap?: (cluster: Cluster) => Cluster } = {}): Promise<Served> {
  const [{ serve }, { loadProject }, { LocalRunner }, { DispatcherCluster }, { createGatewayApp }] = await Promise.all([
    import("@hono/node-server"),
    import("../../src/config/load-project.ts"),
    import("../../src/engine/local-runner.ts"),
    import("../../src/engine/dispatcher-cluster.ts"),
    import("../../src/gateway/gateway-app.ts"),
  ]);
  const project = await loadProject(dir);
  if (project.problems.length > 0) throw new Error(project.problems.map((p) => p.message).join("; "));
  const runner = new LocalRunner({ pipelines: project.pipelines, steps: project.steps });
  await runner.start();
  const local = new DispatcherCluster(runner.dispatcher);
  const app = createGatewayApp(options.wrap?.(local) ?? local, { token: options.token });
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s));
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return {
    url: `http://127.0.0.1:${address.port}/`,
    async stop() {
      (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await runner.stop(500);
    },
  };
}

/**
 * Starts `mario up --port=0 <dir>` as a child process and waits for the URL it prints. `stop()`
 * sends SIGTERM to that pid (SIGKILL after 30 s) and waits for the exit.
 */
export async function startMarioUp(dir: string, options: { args?: string[]; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<Served> {
  const root = new URL("../../", import.meta.url).pathname;
  const child = spawn(process.execPath, ["bin/mario.js", "up", "--port=0", ...(options.args ?? []), dir], {
    cwd: root,
    env: { ...process.env, MARIO_LOG_LEVEL: "info", ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, "exit");
    child.kill("SIGTERM");
    const force = setTimeout(() => child.kill("SIGKILL"), 30_000);
    await exited;
    clearTimeout(force);
  };
  let output = "";
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`mario up printed no URL within ${options.timeoutMs ?? 60_000} ms:\n${output}`)), options.timeoutMs ?? 60_000);
      const onData = (chunk: Buffer): void => {
        output += chunk.toString();
        const match = /http:\/\/(127\.0\.0\.1|localhost|0\.0\.0\.0|\[::1?\]):(\d+)/.exec(output);
        if (match !== null) {
          clearTimeout(timer);
          resolve(`http://127.0.0.1:${match[2]}/`);
        }
      };
      child.stdout.on("data", onData);
      child.stderr.on("data", onData);
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`mario up exited (${code ?? signal}) before printing a URL:\n${output}`));
      });
    });
    return { url, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
