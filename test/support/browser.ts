/**
 * Browser test support: Debian's Chromium driven by playwright-core (no browser download), a
 * throwaway project whose functions include one that always throws, and a way to serve it.
 */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser } from "playwright-core";

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
