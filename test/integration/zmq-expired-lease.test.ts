/**
 * No work on expired leases: a step worker that receives a delivery whose lease has already
 * ended (it was stalled with the delivery queued) does not run it and hands it back; a delivery
 * still within its lease runs. Real sockets: a StepWorker and a DEALER playing the pipeline server.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import * as zmq from "zeromq";
import { InProcessExecutor } from "../../src/engine/step-executor.ts";
import { StepWorker } from "../../src/transport/step-worker.ts";
import { decode, encode } from "../../src/transport/protocol.ts";

test("a delivery past its lease is handed back unrun; one within its lease runs", async (t) => {
  const ran: string[] = [];
  const worker = new StepWorker({
    executor: new InProcessExecutor({ jobType: "work", handler: (input: Record<string, unknown>) => (ran.push(String(input.name)), { ok: true }) }),
    subConnect: "tcp://127.0.0.1:1",
    pullBind: "tcp://127.0.0.1:0",
    concurrency: 2,
  });
  await worker.start();
  t.after(() => worker.stop({ graceMs: 0 }));
  const dealer = new zmq.Dealer({ linger: 0 });
  t.after(() => dealer.close());
  dealer.connect(worker.address);

  const base = { pipeline: "p", jobType: "work", stepIndex: 0, attempt: 1, timeoutMs: 5000 };
  // As a pipeline server does: register the worker first (it runs jobs only from a server that did).
  await dealer.send(encode("welcome", { workerId: worker.workerId, serverId: "server-1", secret: "s".repeat(43) }));
  await dealer.send(
    encode("jobs", {
      serverId: "server-1",
      deliveries: [
        { ...base, jobId: "late", token: "t1", input: { name: "late" }, expiresAt: Date.now() - 1 },
        { ...base, jobId: "fresh", token: "t2", input: { name: "fresh" }, expiresAt: Date.now() + 60_000 },
      ],
    }),
  );
  const seen: string[] = [];
  let handedBack: string[] = [];
  let results: string[] = [];
  while (handedBack.length === 0 || results.length === 0) {
    const message = decode(await dealer.receive());
    if (message instanceof Error) throw message;
    seen.push(message.type);
    if (message.type === "bye") handedBack = message.body.handBack;
    if (message.type === "results") results = message.body.outcomes.map((o) => o.jobId);
  }
  assert.deepEqual(handedBack, ["late"]);
  assert.deepEqual(results, ["fresh"]);
  assert.deepEqual(ran, ["fresh"], "the expired delivery never ran");
});
