/**
 * `npm run test:multihost`: Mario across hosts, each host a network namespace on a bridge the
 * suite creates (see lab-network.ts). Redis and pipeline server A on h1, pipeline server B on h2,
 * `mario host` on h3 and h4, `mario gateway --redis` (no --job-push) and the load generator on
 * h5, `mario forwarder` + `mario streamer` on h6. Under load through the gateway:
 *   (a) SIGKILL server A;
 *   (b) cut h3's link for three heartbeat timeouts, then restore it;
 *   (c) a second pass through the forwarder and the streamer, killing server A again.
 * Each case: accepted = succeeded + dead, 0 lost, no client error, duplicate executions ≤ jobs in
 * flight at the fault, recovery without restarting anything; prints the figures.
 */
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { MarioProcess } from "../support/processes.ts";
import { LabNetwork } from "./lab-network.ts";

const JOBS = Number(process.env.MULTIHOST_JOBS ?? 2000);
const PARALLEL = 16;
/** The hosts' heartbeat; the servers drop a worker silent 3 × this long. */
const HEARTBEAT_MS = 300;
const HEARTBEAT_TIMEOUT_MS = 3 * HEARTBEAT_MS;
const PIPELINE = "mh";
/** Jobs whose `work` step always throws (n % 100 === 7): dead after 2 attempts. */
const DOOMED = Array.from({ length: JOBS }, (_, n) => n).filter(isDoomed).length;
const LOAD_GENERATOR = fileURLToPath(new URL("./load-generator.ts", import.meta.url));

interface Result {
  sent: number;
  accepted: number;
  distinct: number;
  errors: Record<string, number>;
  succeeded: number;
  dead: number;
  lost: number;
  recoveryMs: number | null;
  drainMs: number | null;
  acceptedInStorage: number;
}

describe(`multihost: ${JOBS} jobs per case across network namespaces`, () => {
  let lab: LabNetwork | undefined;
  let root = "";
  let logDir = "";
  const running: MarioProcess[] = [];
  const ip = (host: string): string => lab!.address(host);
  const redisUrl = (): string => `redis://${ip("h1")}:6379`;

  const start = (host: string, args: readonly string[], options: { command?: string[]; stdin?: boolean } = {}): MarioProcess => {
    const proc = new MarioProcess(args, {
      prefix: ["ip", "netns", "exec", lab!.ns(host)],
      command: options.command,
      stdin: options.stdin,
      env: { MARIO_ADVERTISE_HOST: ip(host), MH_HOST: host, MH_LOG_DIR: logDir, MARIO_LOG_LEVEL: "info" },
    });
    running.push(proc);
    return proc;
  };
  const stopAll = async (): Promise<void> => {
    await Promise.all(running.splice(0).map((p) => p.stop("SIGTERM", 5000)));
  };

  const startServer = async (host: string, via: "direct" | "devices"): Promise<MarioProcess> => {
    const a = ip(host);
    const sockets = via === "direct"
      ? [`--sub-bind=tcp://${a}:6000`, `--job-pull-bind=tcp://${a}:5050`]
      : [`--sub-connect=tcp://${ip("h6")}:6060`, `--job-pull-connect=tcp://${ip("h6")}:5060`];
    const proc = start(host, ["pipeline", join(root, "mario.config.json"), ...sockets, `--redis=${redisUrl()}`, "--drain-ms=500"]);
    await proc.waitForLine(via === "direct" ? /pipeline server registered/ : /pipeline server ready/, 60_000);
    return proc;
  };
  const startHost = async (host: string, announce: readonly string[]): Promise<MarioProcess> => {
    const proc = start(host, ["host", join(root, "functions"), ...announce.map((a) => `--sub-connect=${a}`), `--heartbeat-ms=${HEARTBEAT_MS}`, `--pull-bind=tcp://${ip(host)}:0`]);
    await proc.waitForLine(/mario host: serving 2 function\(s\)/, 60_000);
    return proc;
  };
  const startGateway = async (extra: readonly string[]): Promise<string> => {
    const proc = start("h5", ["gateway", `--redis=${redisUrl()}`, `--host=${ip("h5")}`, "--port=8080", ...extra]);
    await proc.waitForLine(/mario gateway on http:/, 60_000);
    return `http://${ip("h5")}:8080/`;
  };
  /** Waits until the gateway says every pipeline is served and a job goes through. */
  const untilServing = async (url: string, jobs = 1): Promise<void> => {
    const probe = start("h5", [url, PIPELINE, String(jobs), String(Math.min(jobs, PARALLEL)), "60000"], { command: [process.execPath, "--import", "tsx", LOAD_GENERATOR] });
    const line = await probe.waitForLine(/^result /, 90_000);
    const result = JSON.parse(line.slice(7)) as Result;
    assert.equal(result.succeeded + result.dead, jobs, "jobs go through");
    await probe.exited;
  };

  /** Runs the load; at `faultAfter` answers takes a snapshot, runs `fault`, and collects the figures. */
  const runCase = async (name: string, url: string, fault: () => Promise<void>): Promise<{ result: Result; inFlight: number; duplicates: number }> => {
    const before = executions();
    const load = start("h5", [url, PIPELINE, String(JOBS), String(PARALLEL), "150000"], { command: [process.execPath, "--import", "tsx", LOAD_GENERATOR], stdin: true });
    await load.waitForLine(new RegExp(`^progress ${Math.floor(JOBS / 4 / 100) * 100}$`), 120_000);
    load.child.stdin!.write("snapshot\n");
    const snap = JSON.parse((await load.waitForLine(/^snapshot /, 30_000)).slice(9)) as { inFlight: number; queued: number; outstanding: number };
    load.child.stdin!.write(`fault ${Date.now()}\n`);
    await fault();
    const result = JSON.parse((await load.waitForLine(/^result /, 240_000)).slice(7)) as Result;
    await load.exited;
    const duplicates = duplicateExecutions(before, executions());
    const inFlight = snap.inFlight + snap.outstanding;
    process.stdout.write(
      `# multihost case ${name}: accepted=${result.accepted} succeeded=${result.succeeded} dead=${result.dead} lost=${result.lost} ` +
        `duplicates=${duplicates} (in flight at the fault: ${snap.inFlight} jobs + ${snap.outstanding} requests) ` +
        `recovery=${result.recoveryMs} ms drain=${result.drainMs} ms client errors=${JSON.stringify(result.errors)}\n`,
    );
    return { result, inFlight, duplicates };
  };
  const assertCase = ({ result, inFlight, duplicates }: { result: Result; inFlight: number; duplicates: number }): void => {
    assert.deepEqual(result.errors, {}, "no client error");
    assert.equal(result.accepted, JOBS);
    assert.equal(result.distinct, JOBS, "one job per request");
    assert.equal(result.acceptedInStorage, JOBS, "each job stored once");
    assert.equal(result.accepted, result.succeeded + result.dead, "accepted = succeeded + dead");
    assert.equal(result.lost, 0, "no job lost");
    assert.ok(result.dead >= DOOMED, `the ${DOOMED} doomed jobs are dead (dead: ${result.dead})`);
    assert.ok(result.recoveryMs !== null, "jobs created after the fault succeeded without restarting anything");
    assert.ok(duplicates <= inFlight, `duplicate executions ${duplicates} ≤ in flight at the fault ${inFlight}`);
  };

  /** Every step execution, as the step functions logged them: "jobId step attempt host time". */
  const executions = (): string[] =>
    readdirSync(logDir).filter((f) => f.startsWith("exec-")).flatMap((f) => readFileSync(join(logDir, f), "utf8").split("\n").filter((l) => l !== ""));

  before(async () => {
    root = mkdtempSync(join(tmpdir(), "mario-multihost-"));
    logDir = join(root, "log");
    mkdirSync(logDir);
    mkdirSync(join(root, "functions"));
    const step = (name: string, body: string): string => `import { appendFileSync } from "node:fs";
export const config = { concurrency: 8, timeoutMs: 2000, retries: 1 };
export default async function (instructions, ctx) {
  appendFileSync(process.env.MH_LOG_DIR + "/exec-" + process.env.MH_HOST + "-" + process.pid + ".log", [ctx.jobId, "${name}", ctx.attempt, process.env.MH_HOST, Date.now(), instructions.n].join(" ") + "\\n");
  await new Promise((resolve) => setTimeout(resolve, 10));
  ${body}
}
`;
    writeFileSync(join(root, "functions", "work.mjs"), step("work", 'if (instructions.n % 100 === 7) throw new Error("doomed"); return { ...instructions, worked: true };'));
    writeFileSync(join(root, "functions", "finish.mjs"), step("finish", "return { n: instructions.n, done: true };"));
    writeFileSync(join(root, "mario.config.json"), JSON.stringify({ functions: "functions", pipelines: { [PIPELINE]: ["work", "finish"] } }));
    // The function host bundles into the project's node_modules/.cache: give it one.
    mkdirSync(join(root, "node_modules"));
    lab = await LabNetwork.create(["h1", "h2", "h3", "h4", "h5", "h6"]);
    const redis = start("h1", ["--port", "6379", "--bind", ip("h1"), "--protected-mode", "no", "--save", "", "--appendonly", "no"], { command: ["redis-server"] });
    await redis.waitForLine(/Ready to accept connections/, 30_000);
  });
  after(async () => {
    await stopAll();
    await lab?.destroy();
    rmSync(root, { recursive: true, force: true });
  });

  it("(a) SIGKILL of pipeline server A under load: the gateway moves to B at once", async () => {
    const serverA = await startServer("h1", "direct");
    await startServer("h2", "direct");
    const direct = [`tcp://${ip("h1")}:6000`, `tcp://${ip("h2")}:6000`];
    await Promise.all([startHost("h3", direct), startHost("h4", direct)]);
    const url = await startGateway([]);
    await untilServing(url);
    const figures = await runCase("a (kill server A)", url, async () => {
      assert.equal((await serverA.kill()).signal, "SIGKILL");
    });
    assertCase(figures);
  });

  it("(b) h3's link cut for three heartbeat timeouts, then restored: h3 rejoins by itself", async () => {
    // Server A back (a new process) so that both servers are up again.
    await startServer("h1", "direct");
    const url = `http://${ip("h5")}:8080/`;
    await untilServing(url);
    let restoredAt = 0;
    const figures = await runCase("b (cut h3's link)", url, async () => {
      await lab!.cut("h3");
      // The fault lasts three heartbeat timeouts: time is the fault itself here.
      await delay(3 * HEARTBEAT_TIMEOUT_MS);
      await lab!.restore("h3");
      restoredAt = Date.now();
    });
    assertCase(figures);
    // h3 is back without a restart: its workers announce again and take jobs.
    const seen = start("h5", ["--until-worker", url, `//${ip("h3")}:`, String(restoredAt), "30000"], { command: [process.execPath, "--import", "tsx", LOAD_GENERATOR] });
    assert.deepEqual(await seen.exited, { code: 0, signal: null }, `h3's workers did not announce again: ${seen.stderr}`);
    await untilServing(url, 200);
    const onH3 = executions().map((l) => l.split(" ")).filter((f) => f[3] === "h3" && Number(f[4]) > restoredAt).map((f) => Number(f[4]));
    assert.ok(onH3.length > 0, "h3 ran jobs after its link came back");
    process.stdout.write(`# multihost case b: h3 ran its first job ${Math.min(...onH3) - restoredAt} ms after its link came back (no restart)\n`);
  });

  it("(c) a second pass through mario forwarder and mario streamer on h6, killing server A", async () => {
    await stopAll();
    const devices = "h6";
    const forwarder = start(devices, ["forwarder", `--subscriber=tcp://${ip(devices)}:6000`, `--publisher=tcp://${ip(devices)}:6060`]);
    const streamer = start(devices, ["streamer", `--pull=tcp://${ip(devices)}:5050`, `--push=tcp://${ip(devices)}:5060`]);
    await Promise.all([forwarder.waitForLine(/forwarder ready/, 60_000), streamer.waitForLine(/streamer ready/, 60_000)]);
    const redis = start("h1", ["--port", "6379", "--bind", ip("h1"), "--protected-mode", "no", "--save", "", "--appendonly", "no"], { command: ["redis-server"] });
    await redis.waitForLine(/Ready to accept connections/, 30_000);
    const serverA = await startServer("h1", "devices");
    await startServer("h2", "devices");
    const announce = [`tcp://${ip(devices)}:6000`];
    await Promise.all([startHost("h3", announce), startHost("h4", announce)]);
    // Told the streamer's address: the project names the pipelines, the servers' namespace is mario.
    const url = await startGateway([join(root, "mario.config.json"), `--job-push=tcp://${ip(devices)}:5050`, "--namespace=mario"]);
    await untilServing(url);
    const figures = await runCase("c (forwarder + streamer, kill server A)", url, async () => {
      assert.equal((await serverA.kill()).signal, "SIGKILL");
    });
    assertCase(figures);
  });
});

/** Executions beyond the expected ones, per job and step, among the lines added since `before`. */
function duplicateExecutions(before: readonly string[], after: readonly string[]): number {
  const seen = new Set(before);
  const counts = new Map<string, { n: number; step: string; count: number }>();
  for (const line of after) {
    if (seen.has(line)) continue;
    const [jobId, step, , , , n] = line.split(" ");
    const key = `${jobId} ${step}`;
    const entry = counts.get(key) ?? { n: Number(n), step: step!, count: 0 };
    entry.count++;
    counts.set(key, entry);
  }
  let duplicates = 0;
  for (const { n, step, count } of counts.values()) {
    // A doomed job's work step runs twice by design (retries: 1); every other step once.
    duplicates += Math.max(0, count - (step === "work" && isDoomed(n) ? 2 : 1));
  }
  return duplicates;
}

function isDoomed(n: number): boolean {
  return n % 100 === 7;
}
