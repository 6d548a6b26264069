/**
 * CurveZMQ from the command line, as real `mario` children: `mario keygen` writes a keypair (the
 * secret file mode 0600, never overwritten by mistake); a pipeline server and a step worker with
 * their own keys run a job for a client whose key is allowed; a client without keys, or with a key
 * not allowed, gets no answer and each refusal is a log line on the server; a flag that needs
 * keys without them is one line and exit 2.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { eventually } from "../support/eventually.ts";
import { freePorts } from "../support/ports.ts";
import { MarioProcesses, runMario, type MarioProcess } from "../support/processes.ts";

const STEPS = "examples/simple.ts";
/** The keys this test gives, whatever the environment says (the keyed second pass sets one). */
const NO_ENV_KEYS = { MARIO_CURVE_SECRET_KEY_FILE: "", MARIO_CURVE_SERVER_KEY: "", MARIO_CURVE_ALLOW: "" };

describe("mario keygen and the --curve-* flags (e2e)", () => {
  const procs = new MarioProcesses();
  let dir = "";
  let pipeline: MarioProcess;
  let pull = "";

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "mario-curve-"));
    mkdirSync(join(dir, "allowed"));
    for (const [name, where] of [["server", "."], ["worker", "allowed"], ["client", "allowed"], ["stranger", "."]] as const) {
      const made = await runMario(["keygen", name, `--dir=${join(dir, where)}`]);
      assert.equal(made.code, 0, made.stderr);
    }
    const [subPort, pullPort] = await freePorts(2);
    const sub = `tcp://127.0.0.1:${subPort}`;
    pull = `tcp://127.0.0.1:${pullPort}`;
    const env = { ...NO_ENV_KEYS, MARIO_CURVE_SECRET_KEY_FILE: join(dir, "server.key"), MARIO_CURVE_ALLOW: join(dir, "allowed") };
    pipeline = procs.start(["pipeline", STEPS, "example-one", `--sub-bind=${sub}`, `--job-pull-bind=${pull}`], { env });
    await pipeline.waitForLine(/pipeline server ready/);
    const serverKey = join(dir, "server.pub");
    for (const jobType of ["generate-file", "delete-file"]) {
      const worker = procs.start(
        ["step", STEPS, jobType, `--sub-connect=${sub}`, "--heartbeat-ms=200", `--curve-secret-key-file=${join(dir, "allowed", "worker.key")}`, `--curve-server-key=${serverKey}`],
        { env: NO_ENV_KEYS },
      );
      await worker.waitForLine(/step worker ready/);
    }
  });
  after(async () => {
    await procs.stopAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it("writes <name>.key (mode 0600) and <name>.pub, and will not overwrite them without --force", async () => {
    const secret = readFileSync(join(dir, "server.key"), "utf8");
    const pub = readFileSync(join(dir, "server.pub"), "utf8");
    const publicKey = /public-key = "(.{40})"/.exec(pub)?.[1];
    assert.ok(publicKey !== undefined, pub);
    assert.ok(secret.includes(`public-key = "${publicKey}"`));
    assert.match(secret, /secret-key = ".{40}"/);
    assert.ok(!pub.includes("secret-key"));
    assert.equal(statSync(join(dir, "server.key")).mode & 0o777, 0o600);
    const again = await runMario(["keygen", "server", `--dir=${dir}`]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /^mario keygen: .*server\.key exists: choose another name, or --force to replace it\n$/);
    assert.equal(readFileSync(join(dir, "server.key"), "utf8"), secret, "unchanged");
  });

  it("runs a job for a client whose key is allowed", async () => {
    const result = await runMario(
      ["enqueue", pull, "example-one", '{"size": 10}', "--wait", "--timeout=30000", `--curve-secret-key-file=${join(dir, "allowed", "client.key")}`, `--curve-server-key=${join(dir, "server.pub")}`],
      { env: NO_ENV_KEYS },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal((JSON.parse(result.stdout) as { status: string }).status, "succeeded");
  });

  it("a client without keys, or with a key not allowed, gets no answer; the server logs the refused key", async () => {
    const plain = await runMario(["enqueue", pull, "example-one", "{}", "--timeout=1000"], { env: NO_ENV_KEYS });
    assert.equal(plain.code, 1);
    assert.match(plain.stderr, /no answer from/);
    const stranger = await runMario(
      ["enqueue", pull, "example-one", "{}", "--timeout=1000", `--curve-secret-key-file=${join(dir, "stranger.key")}`, `--curve-server-key=${join(dir, "server.pub")}`],
      { env: NO_ENV_KEYS },
    );
    assert.equal(stranger.code, 1);
    const strangerKey = /public-key = "(.{40})"/.exec(readFileSync(join(dir, "stranger.pub"), "utf8"))![1]!;
    await eventually(() => pipeline.stderr.includes('"code":"CURVE_KEY_REFUSED"') && pipeline.stderr.includes(strangerKey), {
      message: "the server logged the refused key",
    });
  });

  it("--curve-server-key without --curve-secret-key-file is one line and exit 2", async () => {
    const result = await runMario(["enqueue", pull, "example-one", "{}", `--curve-server-key=${join(dir, "server.pub")}`], { env: NO_ENV_KEYS });
    assert.equal(result.code, 2);
    assert.equal(result.stderr, "mario enqueue: --curve-server-key needs --curve-secret-key-file (this process's own keypair; write one with mario keygen)\n");
  });
});
