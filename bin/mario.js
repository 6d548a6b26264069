#!/usr/bin/env node
// The `mario` command. Installed from the registry, it runs the compiled JavaScript of dist/ on
// plain Node. In a checkout of the repository (src/ is there; it is not in the published package)
// it runs the TypeScript sources through tsx, a devDependency, so `npm install && npm start`
// needs no build and always runs what is in src/.
import { existsSync } from "node:fs";

const sources = new URL("../src/cli/main.ts", import.meta.url);
/** @type {{ main(argv: string[]): Promise<void> }} */
let cli;
if (existsSync(sources)) {
  const { register } = await import("tsx/esm/api");
  register();
  cli = await import(sources.href);
} else {
  cli = await import("../dist/src/cli/main.js");
}
await cli.main(process.argv.slice(2));
