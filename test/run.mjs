#!/usr/bin/env node
// `npm test`: checks what the suites need outside npm, then runs every test/**/*.test.ts with
// node's built-in test runner (through tsx). Extra arguments narrow the run: `npm test -- unit`.
// A second pass runs the e2e files of KEYED_E2E again with CurveZMQ on: one keypair from
// `mario keygen` in MARIO_CURVE_SECRET_KEY_FILE, which every `mario` child process picks up.
import { spawnSync, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const needs = [
  { command: "redis-server", why: "the Redis storage tests", install: "apt-get install redis-server" },
];
for (const need of needs) {
  const found = spawnSync(need.command, ["--version"], { stdio: "ignore" });
  if (found.error !== undefined || found.status !== 0) {
    console.error(`npm test: ${need.command} is not installed (needed by ${need.why}); install it with: ${need.install}`);
    process.exit(1);
  }
}

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

const filters = process.argv.slice(2);
const files = findTests("test").filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
if (files.length === 0) {
  console.error(`npm test: no test files match ${filters.join(" ")}`);
  process.exit(1);
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
    child = spawn(process.execPath, ["--import", "tsx", "--test", "--test-concurrency=2", "--test-timeout=120000", ...list], {
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
