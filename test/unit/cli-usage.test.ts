/**
 * The command line's own checks, before any command runs: unknown flags are one line and exit 2
 * (citty would ignore them), long aliases show with two dashes in help, `--version` works after a
 * command name too.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import type { ArgsDef } from "citty";
import { fixAliases, knownFlags, unknownFlag } from "../../src/cli/_usage.ts";

const args: ArgsDef = {
  file: { type: "positional", required: true },
  "sub-connect": { type: "string", alias: ["pub-connect"] },
  watch: { type: "boolean" },
  n: { type: "string", alias: "c" },
};

function mario(...argv: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ["bin/mario.js", ...argv], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" }, timeout: 30_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("command line usage", () => {
  it("knows each flag, its aliases, --no-x for booleans and --help", () => {
    assert.deepEqual([...knownFlags(args)].sort(), ["c", "help", "n", "no-watch", "pub-connect", "sub-connect", "watch"]);
  });

  it("finds the first unknown --flag, with or without a value, and nothing after --", () => {
    assert.equal(unknownFlag(["f.ts", "--sub-connect=tcp://a:1", "--watch", "--no-watch", "-c", "2"], args), undefined);
    assert.equal(unknownFlag(["f.ts", "--pub-connect", "tcp://a:1", "--sub-conect=tcp://a:1", "--bogus"], args), "--sub-conect");
    assert.equal(unknownFlag(["f.ts", "--", "--anything"], args), undefined);
  });

  it("shows long aliases with two dashes, plain or coloured, and leaves one-letter aliases alone", () => {
    const command = { args };
    assert.equal(fixAliases("  -pub-connect, --sub-connect=<x>    where", command), "  --pub-connect, --sub-connect=<x>    where");
    assert.equal(fixAliases("\u001b[36m-pub-connect, --sub-connect\u001b[39m", command), "\u001b[36m--pub-connect, --sub-connect\u001b[39m");
    assert.equal(fixAliases("  -c, --n=<n>", command), "  -c, --n=<n>");
  });

  it("mario <command> with an unknown flag: one line naming it, exit 2, nothing started", () => {
    const result = mario("up", "--prot=8080");
    assert.equal(result.status, 2);
    assert.equal(result.stderr, "mario up: unknown flag --prot (see mario up --help)\n");
    assert.equal(result.stdout, "");
  });

  it("mario pipeline --help shows the --job-pull alias; mario enqueue --version prints the version", () => {
    const help = mario("pipeline", "--help");
    assert.equal(help.status, 0);
    assert.match(help.stdout, /--job-pull, --job-pull-bind/);
    assert.doesNotMatch(help.stdout, /(^|\s)-job-pull/m);
    const version = mario("enqueue", "--version");
    assert.equal(version.status, 0);
    assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
  });
});
