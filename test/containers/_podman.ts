/**
 * Podman for `npm run test:containers`: installs what is missing (as root, through apt-get), writes
 * a containers.conf of the test's own (runc, cgroupfs, low ulimits: what this machine needs, and
 * what podman-compose picks up through CONTAINERS_CONF) without touching the machine's global
 * config, runs commands with a time bound, follows a container's log for a line, and removes
 * exactly what the test created.
 *
 * ```ts
 * ensureTools();
 * const env = podmanEnv(tempDir);
 * await run("podman", ["run", "--rm", image, "node", "--version"], { env });
 * ```
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs?: number;
}

/** Runs a command to its end (SIGKILL, by pid, past `timeoutMs`, default 5 min). */
export function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 300_000);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** `run`, and a thrown error with the command's output when it does not exit 0. */
export async function runOk(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const result = await run(command, args, options);
  if (result.code !== 0) throw new Error(`${command} ${args.join(" ")} exited ${result.code}\n--- stdout\n${result.stdout.slice(-4000)}\n--- stderr\n${result.stderr.slice(-4000)}`);
  return result;
}

const TOOLS: { command: string; path?: string; packages: string[] }[] = [
  { command: "podman", packages: ["podman"] },
  { command: "runc", packages: ["runc"] },
  { command: "podman-compose", packages: ["podman-compose"] },
  // podman 4.3's CNI networks resolve container names (redis, pipeline-…) with this plugin.
  { command: "dnsname", path: "/usr/lib/cni/dnsname", packages: ["golang-github-containernetworking-plugin-dnsname"] },
  { command: "openssl", packages: ["openssl"] },
  { command: "curl", packages: ["curl", "ca-certificates"] },
];

/** Installs the missing tools through apt-get when root; otherwise throws the line to run. */
export function ensureTools(): void {
  const missing = TOOLS.filter((t) => (t.path === undefined ? spawnSync("sh", ["-c", `command -v ${t.command}`]).status !== 0 : !existsSync(t.path)));
  if (missing.length === 0) return;
  const packages = missing.flatMap((t) => t.packages);
  const canInstall = process.getuid?.() === 0 && spawnSync("sh", ["-c", "command -v apt-get"]).status === 0;
  if (!canInstall) throw new Error(`npm run test:containers needs ${missing.map((t) => t.command).join(", ")}: apt-get install ${packages.join(" ")}`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  execFileSync("apt-get", ["update", "-qq"], { env, stdio: "inherit" });
  execFileSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...packages], { env, stdio: "inherit" });
}

/**
 * The environment every podman and podman-compose command of the test runs with: its own
 * containers.conf (this machine's podman needs runc, cgroupfs and explicit low ulimits; crun
 * fails on rlimits and hybrid cgroups), docker-format images (so HEALTHCHECK is kept), and no
 * intermediate layer images left behind by builds.
 */
export function podmanEnv(dir: string): NodeJS.ProcessEnv {
  const conf = join(dir, "containers.conf");
  writeFileSync(
    conf,
    [
      "[containers]",
      'default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]',
      "[engine]",
      'runtime = "runc"',
      'cgroup_manager = "cgroupfs"',
      'events_logger = "file"',
      "[network]",
      'network_backend = "cni"',
      "",
    ].join("\n"),
  );
  return { ...process.env, CONTAINERS_CONF: conf, BUILDAH_FORMAT: "docker", BUILDAH_LAYERS: "false" };
}

/**
 * Follows a container's log until a line matches (resolves with the log so far). The log
 * survives a restart of the container (restart: unless-stopped), so a follower that ends is
 * started again until `timeoutMs`.
 */
export async function waitForLog(container: string, pattern: RegExp, env: NodeJS.ProcessEnv, timeoutMs = 120_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let seen = "";
  while (Date.now() < deadline) {
    const found = await new Promise<boolean>((resolve) => {
      const child = spawn("podman", ["logs", "-f", container], { env, stdio: ["ignore", "pipe", "pipe"] });
      seen = "";
      const timer = setTimeout(() => child.kill("SIGKILL"), Math.max(1, deadline - Date.now()));
      const onData = (chunk: string): void => {
        seen += chunk;
        if (pattern.test(seen)) {
          clearTimeout(timer);
          child.kill("SIGKILL");
          resolve(true);
        }
      };
      child.stdout.setEncoding("utf8").on("data", onData);
      child.stderr.setEncoding("utf8").on("data", onData);
      child.once("close", () => {
        clearTimeout(timer);
        resolve(pattern.test(seen));
      });
    });
    if (found) return seen;
  }
  throw new Error(`${container}: no log line matching ${pattern} within ${timeoutMs} ms; its log:\n${seen.slice(-3000)}`);
}

/** A free TCP port on 127.0.0.1 (for a container's published port). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}
