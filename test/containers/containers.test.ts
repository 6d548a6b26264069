/**
 * `npm run test:containers`: the README's Docker section, run with podman on this machine.
 *
 * - The Mario image is built (on a base image assembled from this machine: no registry is
 *   reachable in CI) and started with `mario up`; a curl from the host finishes a job. Inside the
 *   running container the process is not root and the application folder is not writable.
 * - An image of a user's own project (test/fixtures/container-project: its own functions and
 *   npm dependency) is built with docker/project.Dockerfile and finishes a job of its pipeline.
 * - docker/compose.yaml is brought up with podman-compose and two hosts: each healthcheck passes
 *   in its own container (and fails in another's), jobs through the gateway finish, both hosts
 *   took some.
 * - Everything is torn down, images included. Printed: image size, time from `podman run` to a
 *   finished job, jobs per host.
 *
 * Every name starts with mario-ci-<random>; only what this run created is removed.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it, type TestContext } from "node:test";
import { fileURLToPath } from "node:url";
import { assembleRootfs, BASE_IMAGE_CHANGES } from "./_base-image.ts";
import { ensureTools, freePort, podmanEnv, run, runOk, waitForLog } from "./_podman.ts";
import { dockerSectionBlocks, toPodman, type Names } from "./_readme-commands.ts";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const prefix = `mario-ci-${randomBytes(4).toString("hex")}`;
const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
const [imageBlock, projectBlock, composeBlock] = dockerSectionBlocks(readFileSync(join(REPO_ROOT, "README.md"), "utf8"));
let env: NodeJS.ProcessEnv = process.env;
let names: Names;

interface Job {
  id: string;
  status: string;
  result?: Record<string, unknown>;
  steps?: { jobType: string; workerId?: string }[];
}

/** Runs one README line (translated) with bash in the repository root; `extra` adds environment. */
async function runLine(readmeLine: string, extra: Record<string, string> = {}, timeoutMs = 300_000): Promise<string> {
  const { line, env: lineEnv } = toPodman(readmeLine, names);
  const result = await runOk("bash", ["-c", line], { env: { ...env, ...lineEnv, ...extra }, cwd: REPO_ROOT, timeoutMs });
  return result.stdout;
}

function containerName(readmeLine: string): string {
  const match = /--name (\S+)/.exec(toPodman(readmeLine, names).line);
  assert.ok(match, `no --name in ${readmeLine}`);
  return match[1]!;
}

async function podman(args: string[], timeoutMs = 120_000): Promise<string> {
  return (await runOk("podman", args, { env, timeoutMs })).stdout.trim();
}

async function imageSize(image: string): Promise<number> {
  return Number(await podman(["image", "inspect", "--format", "{{.Size}}", image]));
}

const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

/**
 * Runs a block of `docker build` / `docker run -d` / `curl` / `docker rm` lines. After the run
 * line it awaits `mario is up` in the container's log; `check` runs after the curl (given its
 * job), before the container is removed.
 */
async function runImageBlock(t: TestContext, lines: string[], what: string, check: (container: string, job: Job) => Promise<void>): Promise<void> {
  assert.deepEqual(
    lines.map((l) => l.split(" ").slice(0, 2).join(" ")),
    ["docker build", "docker run", "curl -X", "docker rm"],
    `the README block of ${what}: build, run, curl, rm`,
  );
  const [build, start, curl, remove] = lines as [string, string, string, string];
  const container = containerName(start);
  const image = toPodman(start, names).line.split(" ").at(-1)!;
  const built = Date.now();
  await runLine(build, {}, 600_000);
  t.diagnostic(`${what}: image ${image} built in ${((Date.now() - built) / 1000).toFixed(1)} s, ${mib(await imageSize(image))}`);
  const started = Date.now();
  try {
    await runLine(start);
    await waitForLog(container, /mario is up on /, env, 60_000);
    const job = JSON.parse(await runLine(curl)) as Job;
    const finished = Date.now();
    assert.equal(job.status, "succeeded", JSON.stringify(job));
    t.diagnostic(`${what}: time from podman run to a finished job: ${((finished - started) / 1000).toFixed(2)} s`);
    await check(container, job);
  } finally {
    await runLine(remove).catch(() => undefined);
  }
  assert.equal(await podman(["ps", "-a", "-q", "--filter", `name=^${container}$`]), "", `${container} is gone`);
}

/** uid of PID 1 and of an exec'd process, and whether they may write under `folder`. */
async function insideContainer(container: string, folder: string): Promise<{ pid1Uid: number; pid1: string; execUid: number; writeErrors: string[] }> {
  const script = `
    const fs = require("fs");
    const status = fs.readFileSync("/proc/1/status", "utf8");
    const pid1Uid = Number(/^Uid:\\s+(\\d+)/m.exec(status)[1]);
    const pid1 = fs.readFileSync("/proc/1/cmdline", "utf8").split("\\0").join(" ");
    const writeErrors = [];
    for (const attempt of [() => fs.writeFileSync(${JSON.stringify(folder)} + "/.probe", "x"), () => fs.mkdirSync(${JSON.stringify(folder)} + "/functions/.probe"), () => fs.accessSync(${JSON.stringify(folder)}, fs.constants.W_OK)]) {
      try { attempt(); writeErrors.push("WRITABLE"); } catch (e) { writeErrors.push(e.code); }
    }
    console.log(JSON.stringify({ pid1Uid, pid1, execUid: process.getuid(), writeErrors }));`;
  return JSON.parse(await podman(["exec", container, "node", "-e", script])) as { pid1Uid: number; pid1: string; execUid: number; writeErrors: string[] };
}

async function removeEverything(): Promise<void> {
  const quiet = (args: string[]): Promise<unknown> => run("podman", args, { env, timeoutMs: 120_000 }).catch(() => undefined);
  const ids = async (args: string[]): Promise<string[]> => {
    const result = await run("podman", args, { env, timeoutMs: 60_000 }).catch(() => undefined);
    return (result?.stdout ?? "").split("\n").filter((s) => s !== "");
  };
  const containers = [...(await ids(["ps", "-a", "-q", "--filter", `name=^${prefix}`])), ...(await ids(["ps", "-a", "-q", "--filter", `label=io.podman.compose.project=${names.composeProject}`]))];
  if (containers.length > 0) await quiet(["rm", "-f", "-t", "2", ...new Set(containers)]);
  const volumes = [
    ...(await ids(["volume", "ls", "-q", "--filter", `label=io.podman.compose.project=${names.composeProject}`])),
    // The keys volume, made by the README's `docker run … keygen` before compose (no compose label).
    ...(await ids(["volume", "ls", "-q", "--filter", `name=^${names.composeProject}_keys$`])),
  ];
  if (volumes.length > 0) await quiet(["volume", "rm", "-f", ...volumes]);
  const networks = await ids(["network", "ls", "-q", "--filter", `name=^${names.composeProject}_`]);
  if (networks.length > 0) await quiet(["network", "rm", "-f", ...networks]);
  // Newest first: an image built FROM another goes before it.
  for (const image of [names.project, names.image]) await quiet(["rmi", "-f", image]);
  const labelled = await ids(["images", "-q", "--filter", `label=mario-ci=${prefix}`]);
  if (labelled.length > 0) await quiet(["rmi", "-f", ...labelled]);
  await quiet(["rmi", "-f", names.base]);
}

async function leftovers(): Promise<string[]> {
  const list = async (args: string[]): Promise<string[]> => (await podman(args)).split("\n").filter((s) => s !== "");
  return [
    ...(await list(["ps", "-a", "--format", "container {{.Names}}"])).filter((s) => s.includes(prefix)),
    ...(await list(["images", "--format", "image {{.Repository}}:{{.Tag}}"])).filter((s) => s.includes(prefix)),
    ...(await list(["images", "-q", "--filter", `label=mario-ci=${prefix}`])).map((id) => `image ${id}`),
    ...(await list(["volume", "ls", "--format", "volume {{.Name}}"])).filter((s) => s.includes(prefix)),
    ...(await list(["network", "ls", "--format", "network {{.Name}}"])).filter((s) => s.includes(prefix)),
  ];
}

describe("npm run test:containers: the README's Docker section with podman", { concurrency: false }, () => {
  before(async () => {
    ensureTools();
    env = podmanEnv(dir);
    names = { prefix, image: `${prefix}:local`, project: `${prefix}-project`, composeProject: prefix, base: `localhost/${prefix}-base:latest`, port: await freePort() };
    assembleRootfs(join(dir, "rootfs"));
    await runOk("tar", ["-C", join(dir, "rootfs"), "-cf", join(dir, "rootfs.tar"), "."]);
    rmSync(join(dir, "rootfs"), { recursive: true, force: true });
    await podman(["import", ...BASE_IMAGE_CHANGES.flatMap((c) => ["--change", c]), join(dir, "rootfs.tar"), names.base]);
    rmSync(join(dir, "rootfs.tar"), { force: true });
  });

  after(async () => {
    await removeEverything();
    rmSync(dir, { recursive: true, force: true });
  });

  it("the Mario image: built, mario up in it, a curl from the host finishes a job; the process is not root and /app is not writable", { timeout: 900_000 }, async (t) => {
    assert.ok(imageBlock && projectBlock && composeBlock, "the Docker section has three sh blocks: image, own functions, compose");
    await runImageBlock(t, imageBlock, "Mario image", async (container, job) => {
      assert.deepEqual(
        job.steps?.map((s) => s.jobType),
        ["generate-file", "calculate-hash", "delete-file"],
      );
      assert.equal(await podman(["inspect", "--format", "{{.Config.User}}", container]), "node");
      const inside = await insideContainer(container, "/app");
      assert.notEqual(inside.pid1Uid, 0, "PID 1 runs as a non-root user");
      assert.match(inside.pid1, /node .*mario\.js up/);
      assert.notEqual(inside.execUid, 0);
      assert.deepEqual(inside.writeErrors, ["EACCES", "EACCES", "EACCES"], "the application folder is not writable");
      const cache = await podman(["exec", container, "ls", "-R", "/tmp/mario/functions"]);
      assert.match(cache, /generate-file-[0-9a-f]{16}\.mjs/, "run-time bundles went to MARIO_CACHE_DIR");
      t.diagnostic(`inside: PID 1 uid ${inside.pid1Uid} (${inside.pid1.trim()}), /app: ${inside.writeErrors.join(", ")}`);
    });
  });

  it("an image of your own functions: docker/project.Dockerfile on a user's project with its own npm dependency", { timeout: 600_000 }, async (t) => {
    await runImageBlock(t, projectBlock!, "own functions", async (container, job) => {
      assert.deepEqual(job.steps?.map((s) => s.jobType), ["parse-delay", "format-reminder"]);
      assert.equal(job.result?.reminder, "water the plants in 48 h", "ms, the project's dependency, was bundled and ran");
      assert.notEqual(job.result?.ranAs, 0);
      const inside = await insideContainer(container, "/project");
      assert.notEqual(inside.pid1Uid, 0);
      assert.deepEqual(inside.writeErrors, ["EACCES", "EACCES", "EACCES"], "/project is not writable");
      assert.equal(await podman(["exec", container, "ls", "/project"]), "functions\nmario.config.ts", "bundles and config only, no node_modules");
    });
  });

  it("compose with --scale host=2: every healthcheck tests its own service, jobs through the gateway finish, both hosts took some", { timeout: 900_000 }, async (t) => {
    const shapes = [/^export MARIO_TOKEN=/, /^docker run --rm -v mario_keys:\/keys mario:local keygen --dir=\/keys$/, /^docker compose -f docker\/compose\.yaml up -d --scale host=2$/, /^curl /, /^docker compose -f docker\/compose\.yaml down -v$/];
    assert.equal(composeBlock!.length, shapes.length, "the README's compose block: token, keys, up, curl, down");
    shapes.forEach((shape, i) => assert.match(composeBlock![i]!, shape));
    const [makeToken, makeKeys, up, curl, down] = composeBlock as [string, string, string, string, string];
    const token = (await runLine(`${makeToken}; printf %s "$MARIO_TOKEN"`)).trim();
    assert.match(token, /^[0-9a-f]{64}$/);
    // podman-compose 1.0 needs the host replica count (MARIO_HOSTS, from --scale) on down too.
    const composeEnv = { MARIO_TOKEN: token, MARIO_IMAGE: names.image, MARIO_PORT: String(names.port), REDIS_IMAGE: names.base, ...toPodman(up, names).env };
    try {
      const started = Date.now();
      const keygen = await runLine(makeKeys, composeEnv);
      assert.match(keygen, /^wrote \/keys\/mario\.key .*\npublic key: \S{40}\n$/, "the project keypair is in the keys volume");
      await runLine(up, composeEnv);
      const all = (await podman(["ps", "-a", "--filter", `label=io.podman.compose.project=${names.composeProject}`, "--format", "{{.Names}}"])).split("\n").sort();
      const service = (c: string): string => c.slice(names.composeProject.length + 1).replace(/_\d+$/, "");
      const hosts = all.filter((c) => service(c) === "host");
      assert.equal(hosts.length, 2, `two hosts: ${all.join(", ")}`);
      // Ready: the pipeline server registered in Redis, the gateway found its five pipelines there.
      const ready: Record<string, RegExp> = {
        redis: /Ready to accept connections/,
        pipeline: /pipeline server registered/,
        host: /mario host: serving 3 function/,
        gateway: /(?:"msg":"pipeline found"[\s\S]*){5}/,
      };
      await Promise.all(all.map((c) => waitForLog(c, ready[service(c)]!, env, 180_000)));
      // Every ZeroMQ listener binds 0.0.0.0: without the keys each would warn that it is open.
      for (const c of all.filter((name) => service(name) !== "redis")) {
        const logs = await run("podman", ["logs", c], { env, timeoutMs: 60_000 });
        assert.doesNotMatch(logs.stdout + logs.stderr, /without CurveZMQ/, `${c} runs with the project's CurveZMQ keys`);
      }
      t.diagnostic(`compose: ${all.length} containers up and ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);

      // Each healthcheck passes in its own container, and fails in another's (it tests its own service).
      const redis = all.find((c) => service(c) === "redis")!;
      for (const c of all) {
        const result = await run("podman", ["healthcheck", "run", c], { env, timeoutMs: 60_000 });
        assert.equal(result.code, 0, `${c} healthy: ${result.stdout}${result.stderr}`);
        if (c === redis) continue;
        const check = JSON.parse(await podman(["inspect", "--format", "{{json .Config.Healthcheck.Test}}", c])) as string[];
        assert.equal(check[0], "CMD-SHELL");
        const elsewhere = await run("podman", ["exec", redis, "/bin/sh", "-c", check[1]!], { env, timeoutMs: 60_000 });
        assert.notEqual(elsewhere.code, 0, `${service(c)}'s healthcheck fails where that service does not run`);
      }

      const first = JSON.parse(await runLine(curl, composeEnv)) as Job;
      assert.equal(first.status, "succeeded", JSON.stringify(first));

      const base = `http://127.0.0.1:${names.port}`;
      const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
      const unauthorized = await fetch(`${base}/pipelines/hash-and-clean/jobs`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}", signal: AbortSignal.timeout(10_000) });
      assert.equal(unauthorized.status, 401, "the token is required");
      const requests = [
        ...Array.from({ length: 24 }, () => ["hash-and-clean", { size: 64 }] as const),
        ...Array.from({ length: 6 }, () => ["example-one", { size: 16 }] as const),
        ["generate-file", { size: 8 }] as const,
      ];
      const jobs = await Promise.all(
        requests.map(async ([pipeline, body]) => {
          const response = await fetch(`${base}/pipelines/${pipeline}/jobs?wait=30000`, { method: "POST", headers, body: JSON.stringify(body), signal: AbortSignal.timeout(40_000) });
          assert.equal(response.status, 200, `${pipeline}: ${await response.clone().text()}`);
          return (await response.json()) as Job;
        }),
      );
      for (const job of jobs) assert.equal(job.status, "succeeded", JSON.stringify(job));

      const hostnames = new Map(await Promise.all(hosts.map(async (c) => [await podman(["inspect", "--format", "{{.Config.Hostname}}", c]), c] as const)));
      const workers = ((await (await fetch(`${base}/workers`, { headers, signal: AbortSignal.timeout(10_000) })).json()) as { workers: { workerId: string; host: string }[] }).workers;
      const hostOf = new Map(workers.map((w) => [w.workerId, hostnames.get(w.host) ?? w.host]));
      const stepsPerHost = new Map<string, number>(hosts.map((c) => [c, 0]));
      const jobsPerHost = new Map<string, number>(hosts.map((c) => [c, 0]));
      for (const job of [first, ...jobs]) {
        const touched = new Set<string>();
        for (const step of job.steps ?? []) {
          const host = hostOf.get(step.workerId ?? "");
          assert.ok(host !== undefined && stepsPerHost.has(host), `step ${step.jobType} of ${job.id} ran on a scaled host (worker ${step.workerId})`);
          stepsPerHost.set(host, stepsPerHost.get(host)! + 1);
          touched.add(host);
        }
        for (const host of touched) jobsPerHost.set(host, jobsPerHost.get(host)! + 1);
      }
      t.diagnostic(`compose: ${jobs.length + 1} jobs through the gateway; per host (jobs with a step there / steps): ${hosts.map((h) => `${h} ${jobsPerHost.get(h)} / ${stepsPerHost.get(h)}`).join(", ")}`);
      for (const host of hosts) assert.ok(stepsPerHost.get(host)! > 0, `${host} took some steps`);
    } finally {
      await runLine(down, composeEnv).catch(() => undefined);
    }
    assert.equal(await podman(["ps", "-a", "-q", "--filter", `label=io.podman.compose.project=${names.composeProject}`]), "", "compose down removed every container");
    // podman-compose 1.0's down leaves the project's network behind: remove the one it made.
    await podman(["network", "rm", `${names.composeProject}_default`]);
  });

  it("tears everything down, images included", { timeout: 300_000 }, async () => {
    await removeEverything();
    assert.deepEqual(await leftovers(), []);
  });
});
