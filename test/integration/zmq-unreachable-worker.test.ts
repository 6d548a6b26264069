/**
 * A worker that announces an address the pipeline server cannot reach (a wrong
 * MARIO_ADVERTISE_HOST, a firewall) keeps heartbeating. It never receives the server's `welcome`,
 * so it never proves itself: it is never fed (no job waits on it), it is dropped after the
 * registration timeout (counted: REGISTRATION_TIMEOUT), and a reachable worker of the same type
 * runs every job at its first attempt. Once, the unreachable worker took them again and again,
 * forever.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import * as zmq from "zeromq";
import type { LogFields, Logger } from "../../src/log/logger.ts";
import { encode } from "../../src/transport/protocol.ts";
import { eventually } from "../support/eventually.ts";
import { freeAddress } from "../support/ports.ts";
import { Cluster } from "./zmq-fixture.ts";

function recordingLogger(lines: { level: string; message: string; fields: LogFields }[], base: LogFields = {}): Logger {
  const log = (level: string) => (message: string, fields?: LogFields) => void lines.push({ level, message, fields: { ...base, ...fields } });
  return { debug: () => {}, info: log("info"), warn: log("warn"), error: log("error"), child: (fields) => recordingLogger(lines, { ...base, ...fields }) };
}

test("jobs given to a worker that cannot be reached go back to the queue and a reachable worker runs them", async (t) => {
  const lines: { level: string; message: string; fields: LogFields }[] = [];
  const cluster = Cluster.memory();
  t.after(() => cluster.close());
  const server = await cluster.startServer([{ name: "p", steps: ["echo"] }], { logger: recordingLogger(lines), registrationTimeoutMs: 500 });

  // The ghost: announces a port nobody listens on, with more capacity than the real worker, every 100 ms.
  const ghostAddress = await freeAddress();
  const pub = new zmq.Publisher({ linger: 0 });
  pub.connect(server.subAddress);
  const announce = (): void => {
    const body = { workerId: "ghost", jobType: "echo", address: ghostAddress, capacity: 50, inFlight: 0, host: "nowhere", pid: 1, heartbeatMs: 200, draining: false, policy: { timeoutMs: 5000, retries: 2, backoff: { delayMs: 100 } } };
    pub.send(encode("announce", body)).catch(() => {});
  };
  const heartbeat = setInterval(announce, 100);
  t.after(() => {
    clearInterval(heartbeat);
    pub.close();
  });
  announce();
  // It is taken on (connected to, welcomed), never answers, and is dropped: then again, as it keeps announcing.
  await eventually(() => server.refusals.count("REGISTRATION_TIMEOUT") >= 1, { timeoutMs: 5000, message: "the unproven ghost was dropped and counted" });

  await cluster.startWorker({ jobType: "echo", handler: (input) => ({ echoed: input.n }), config: { concurrency: 4 } });
  const client = await cluster.client();
  const ids: string[] = [];
  for (let n = 0; n < 20; n++) {
    const [ok, job] = await client.enqueueJob({ name: "p", instructions: { n } });
    assert.ok(ok, JSON.stringify(job));
    ids.push(job.id);
  }

  const finals = await Promise.all(ids.map((id) => client.waitFor(id, { timeoutMs: 30_000 })));
  assert.deepEqual(finals.map((f) => f.status), ids.map(() => "succeeded"));
  assert.deepEqual(finals.map((f) => f.result), ids.map((_, n) => ({ echoed: n })));
  for (const final of finals) assert.ok(final.steps.every((s) => s.workerId !== "ghost"));
  assert.deepEqual(finals.map((f) => f.attempts), ids.map(() => 1), "a job that never reached a worker has no attempt counted");
  assert.equal(server.dispatcher.hasWorker("ghost"), false, "never fed: it never proved it got the welcome");
  assert.ok(lines.some((l) => l.fields.code === "REGISTRATION_TIMEOUT" && l.fields.workerId === "ghost"), "and logged");
});
