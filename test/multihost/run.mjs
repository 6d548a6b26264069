#!/usr/bin/env node
// `npm run test:multihost`: the multihost suite (network namespaces, so root only) with node's
// test runner through tsx. Not root, or no `ip`: one line, exit 1.
import { spawn, spawnSync } from "node:child_process";

if (typeof process.getuid !== "function" || process.getuid() !== 0) {
  console.error("test:multihost: needs root (it creates network namespaces and veth pairs); run it as root, as CI does");
  process.exit(1);
}
for (const [command, install] of [["ip", "apt-get install iproute2"], ["redis-server", "apt-get install redis-server"]]) {
  const found = spawnSync(command, command === "ip" ? ["-V"] : ["--version"], { stdio: "ignore" });
  if (found.error !== undefined || found.status !== 0) {
    console.error(`test:multihost: ${command} is not installed; install it with: ${install}`);
    process.exit(1);
  }
}
const child = spawn(process.execPath, ["--import", "tsx", "--test", "--test-timeout=420000", "test/multihost/multihost.suite.ts"], {
  stdio: "inherit",
  env: { ...process.env, MARIO_LOG_LEVEL: process.env.MARIO_LOG_LEVEL ?? "warn" },
});
const forward = (signal) => child.kill(signal);
process.on("SIGINT", forward);
process.on("SIGTERM", forward);
child.on("exit", (code) => process.exit(code ?? 1));
