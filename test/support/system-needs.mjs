// What `npm test` needs outside npm, and what to do when some of it is missing: install it with
// apt-get when allowed (root, and apt-get present), else print the one line to run. Pure
// decisions here (test/unit/system-needs.test.ts runs them); test/run.mjs does the probing and
// the installing.

/** Programs the suites run, by the test folders that run them. */
export const NEEDS = [
  { command: "redis-server", packages: ["redis-server"], folders: ["test/integration/", "test/e2e/"], why: "Redis storage tests" },
  { command: "chromium", packages: ["chromium"], folders: ["test/browser/"], why: "dashboard browser tests" },
  { command: "curl", packages: ["curl"], folders: ["test/e2e/"], why: "e2e tests paste the curl lines mario prints" },
];

/** The needs of the test files about to run. */
export function needsOf(files, needs = NEEDS) {
  return needs.filter((need) => files.some((file) => need.folders.some((folder) => file.replaceAll("\\", "/").startsWith(folder))));
}

/**
 * missing: the needs whose command is not found. root: running as uid 0. aptGet: apt-get is on
 * PATH. Returns { action: "none" } | { action: "install", message, commands } | { action: "refuse", message }.
 */
export function planSetup({ missing, root, aptGet }) {
  if (missing.length === 0) return { action: "none" };
  const packages = [...new Set(missing.flatMap((need) => need.packages))];
  const what = missing.map((need) => `${need.command} (${need.why})`).join(", ");
  const install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", ...packages];
  if (root && aptGet) {
    return { action: "install", message: `npm test: installing ${packages.join(" ")} with apt-get: missing ${what}`, commands: [["apt-get", "update", "-qq"], install] };
  }
  const line = `sudo apt-get update && sudo apt-get install -y --no-install-recommends ${packages.join(" ")}`;
  const why = aptGet ? "not root" : "no apt-get here; on Debian or Ubuntu";
  return { action: "refuse", message: `npm test: missing ${what}; install (${why}): ${line}` };
}
