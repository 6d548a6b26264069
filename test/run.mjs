#!/usr/bin/env node
// `npm test`: makes sure the programs the suites run are installed (redis-server, chromium, curl:
// installed with apt-get when missing, if this is root on a machine with apt-get; otherwise the one
// line to run is printed and the exit code is 1), then runs every test/**/*.test.ts with node's
// built-in test runner (through tsx, with "mario-pipelines" resolving to the sources). Extra
// arguments narrow the run: `npm test -- unit`, `npm test -- cli-up`; only what those files need
// is checked.
// A second pass runs the e2e files of KEYED_E2E again with CurveZMQ on: one keypair from
// `mario keygen` in MARIO_CURVE_SECRET_KEY_FILE, which every `mario` child process picks up.
import { spawnSync, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { needsOf, planSetup } from "./support/system-needs.mjs";

function findTests(dir) {
  const found = [];
  for (const entry of readdirSync(dir).sort()) {
    const path = join(dir, entry);
    // test/containers is `npm run test:containers` (podman, images): not part of npm test.
    if (path === join("test", "containers")) continue;
    if (statSync(path).isDirectory()) found.push(...findTests(path));
    else if (entry.endsWith(".test.ts")) found.push(path);
  }
  return found;
}

const installed = (command) => {
  const probe = spawnSync("/bin/sh", ["-c", 'command -v "$1"', "sh", command], { stdio: "ignore" });
  return probe.status === 0;
};

const filters = process.argv.slice(2);
const files = findTests("test").filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
if (files.length === 0) {
  console.error(`npm test: no test files match ${filters.join(" ")}`);
  process.exit(1);
}

const needs = needsOf(files);
const plan = planSetup({ missing: needs.filter((n) => !installed(n.command)), root: process.getuid?.() === 0, aptGet: installed("apt-get") });
if (plan.action === "refuse") {
  console.error(plan.message);
  process.exit(1);
}
if (plan.action === "install") {
  console.error(plan.message);
  for (const command of plan.commands) {
    const ran = spawnSync(command[0], command.slice(1), { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
    if (ran.status !== 0) {
      console.error(`npm test: \`${command.join(" ")}\` failed (exit ${ran.status ?? ran.signal}); install the packages above and run npm test again`);
      process.exit(1);
    }
  }
  const still = needs.filter((n) => !installed(n.command));
  if (still.length > 0) {
    console.error(`npm test: still missing after apt-get: ${still.map((n) => n.command).join(", ")}`);
    process.exit(1);
  }
}

// Function bundles of this run go to a folder of its own, removed at the end.
const cacheDir = process.env.MARIO_CACHE_DIR ?? mkdtempSync(join(tmpdir(), "mario-test-cache-"));

/** The e2e files run a second time with keys: every ZeroMQ command (pipeline, host, enqueue, gateway, forwarder, streamer). */
const KEYED_E2E = ["test/e2e/cli-zmq-devices.test.ts", "test/e2e/cli-host-pipeline.test.ts", "test/e2e/cli-gateway.test.ts"];

let child;
const forward = (signal) => child?.kill(signal);
process.on("SIGINT", forward);
process.on("SIGTERM", forward);

function runFiles(list, env) {
  return new Promise((resolve) => {
    child = spawn(process.execPath, ["--import", "tsx", "--conditions=mario-source", "--test", "--test-concurrency=2", "--test-timeout=300000", ...list], {
      stdio: "inherit",
      env: { ...process.env, MARIO_LOG_LEVEL: process.env.MARIO_LOG_LEVEL ?? "warn", MARIO_CACHE_DIR: cacheDir, ...env },
    });
    child.on("exit", (code) => resolve(code ?? 1));
  });
}

let code = await runFiles(files, {});
const keyed = files.filter((f) => KEYED_E2E.includes(f.split("\\").join("/")));
if (code === 0 && keyed.length > 0 && process.env.MARIO_CURVE_SECRET_KEY_FILE === undefined) {
  const dir = mkdtempSync(join(tmpdir(), "mario-test-keys-"));
  try {
    const made = spawnSync(process.execPath, ["bin/mario.js", "keygen", "cluster", `--dir=${dir}`], { encoding: "utf8" });
    if (made.status !== 0) {
      console.error(`npm test: mario keygen failed: ${made.stderr}`);
      code = 1;
    } else {
      console.log(`npm test: second pass with CurveZMQ on (${keyed.length} e2e files, keys in ${dir})`);
      code = await runFiles(keyed, { MARIO_CURVE_SECRET_KEY_FILE: join(dir, "cluster.key") });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
if (process.env.MARIO_CACHE_DIR === undefined) rmSync(cacheDir, { recursive: true, force: true });
process.exit(code);
