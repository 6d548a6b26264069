/**
 * One end-to-end pipeline on a real 3-master Redis Cluster: `mario pipeline` (every pipeline of
 * the project), `mario host` and `mario gateway`, all given `--redis=redis+cluster://…` seeds;
 * the gateway finds the server through the registry on the cluster. The project's two pipelines
 * land in different slots on different masters, and jobs of both run to the end.
 */
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { freePorts } from "../support/ports.ts";
import { MarioProcesses } from "../support/processes.ts";
import { startRedisCluster, type RedisCluster } from "../support/redis-cluster.ts";

const JSON_HEADERS = { "content-type": "application/json" };

describe("a pipeline end to end on a 3-master Redis Cluster", () => {
  const procs = new MarioProcesses();
  let cluster: RedisCluster | undefined;
  let root = "";
  let url = "";

  before(async () => {
    root = mkdtempSync(join(tmpdir(), "mario-cluster-"));
    mkdirSync(join(root, "functions"));
    writeFileSync(join(root, "functions", "double.mjs"), "export default async function ({ n }) { return { n: Number(n) * 2 }; }\n");
    writeFileSync(join(root, "functions", "inc.mjs"), "export default async function ({ n }) { return { n: Number(n) + 1 }; }\n");
    writeFileSync(join(root, "mario.config.json"), JSON.stringify({ functions: "functions", pipelines: { twice: ["double", "double"], "double-inc": ["double", "inc"] } }));
    cluster = await startRedisCluster();
    const [sub, pull] = (await freePorts(2)).map((p) => `tcp://127.0.0.1:${p}`);
    const server = procs.start(["pipeline", join(root, "mario.config.json"), `--sub-bind=${sub}`, `--job-pull-bind=${pull}`, `--redis=${cluster.url}`]);
    await server.waitForLine(/pipeline server registered/, 30_000);
    const host = procs.start(["host", join(root, "functions"), `--sub-connect=${sub}`, "--heartbeat-ms=200"]);
    await host.waitForLine(/mario host: serving 2 function\(s\)/, 30_000);
    const gateway = procs.start(["gateway", `--redis=${cluster.url}`, "--port=0", "--host=127.0.0.1"]);
    const line = await gateway.waitForLine(/mario gateway on http:\/\/127\.0\.0\.1:\d+\//, 30_000);
    url = /http:\/\/127\.0\.0\.1:\d+\//.exec(line)![0];
  });
  after(async () => {
    await procs.stopAll();
    await cluster?.destroy();
    rmSync(root, { recursive: true, force: true });
  });

  it("the two pipelines' keys are in different slots, served by different masters", async () => {
    const keys = ["twice", "double-inc"].map((p) => `mario:mario:{${p}}:jobs`);
    const slots = await Promise.all(keys.map((k) => cluster!.slotOf(k)));
    assert.notEqual(slots[0], slots[1]);
    const masters = await Promise.all(keys.map((k) => cluster!.masterOf(k)));
    assert.notEqual(masters[0], masters[1], `both on the master at port ${masters[0]}`);
  });

  it("jobs of both pipelines run to the end through the gateway", async () => {
    for (const [pipeline, expected] of [["twice", 20], ["double-inc", 11]] as const) {
      const results = await Promise.all(
        Array.from({ length: 20 }, async () => {
          const res = await fetch(`${url}pipelines/${pipeline}/jobs?wait=20000`, { method: "POST", headers: JSON_HEADERS, body: '{"n": 5}' });
          assert.equal(res.status, 200);
          return (await res.json()) as { status: string; result: { n: number } };
        }),
      );
      for (const job of results) assert.deepEqual([job.status, job.result.n], ["succeeded", expected]);
    }
    const res = await fetch(`${url}pipelines`);
    const { pipelines } = (await res.json()) as { pipelines: { name: string; succeeded: number }[] };
    assert.equal(pipelines.find((p) => p.name === "twice")?.succeeded, 20);
    assert.equal(pipelines.find((p) => p.name === "double-inc")?.succeeded, 20);
    assert.equal((await fetch(`${url}ready`)).status, 200);
  });
});
