#!/usr/bin/env node
// The `mario` command. Runs the TypeScript sources directly through tsx, so a checkout works
// after `npm install` with no build step.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/cli/main.ts");
await main(process.argv.slice(2));
