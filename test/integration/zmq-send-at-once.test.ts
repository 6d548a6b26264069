/**
 * What leaves when, on the path of one job: acks given in one turn leave together on the next
 * (after that turn's replies to clients), and a step worker's results of attempts that end
 * together leave in one message, while a lone job's result leaves by itself. Real sockets: a
 * RemoteWorker to a ROUTER playing the step worker; a StepWorker to a DEALER playing the server.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as zmq from "zeromq";
import { InProcessExecutor } from "../../src/engine/step-executor.ts";
import { silentLogger } from "../../src/log/logger.ts";
import { decode, encode } from "../../src/transport/protocol.ts";
import { ProtocolDrops } from "../../src/transport/protocol-drops.ts";
import { RemoteWorker } from "../../src/transport/remote-worker.ts";
import { StepWorker } from "../../src/transport/step-worker.ts";

describe("acks and results on the path of a job", () => {
  it("acks given in one turn leave as one `ack` message", async (t) => {
    const router = new zmq.Router({ linger: 0, receiveTimeout: 10_000 });
    t.after(() => router.close());
    await router.bind("tcp://127.0.0.1:*");
    const remote = new RemoteWorker({
      announce: {
        workerId: "w1", jobType: "a", address: router.lastEndpoint!, capacity: 4, inFlight: 0, host: "h", pid: 1, heartbeatMs: 1000, draining: false,
        policy: { timeoutMs: 1000, retries: 0, backoff: {} },
      },
      maxMessageBytes: 1024 * 1024,
      serverId: "server-1",
      logger: silentLogger,
      drops: new ProtocolDrops(silentLogger),
      onMessage: () => {},
    });
    t.after(() => remote.close());
    // Two settlements ending in the same turn.
    await Promise.all([remote.ack([{ jobId: "j1", token: "t1" }]), remote.ack([{ jobId: "j2", token: "t2" }, { jobId: "j3", token: "t3" }])]);
    const [, ...frames] = await router.receive();
    const message = decode(frames);
    if (message instanceof Error) throw message;
    assert.equal(message.type, "ack");
    assert.deepEqual(message.type === "ack" ? message.body.acks.map((a) => a.jobId) : [], ["j1", "j2", "j3"]);
  });

  it("results of attempts that end together leave in one message; a lone job's result leaves by itself", async (t) => {
    const worker = new StepWorker({
      executor: new InProcessExecutor({ jobType: "work", handler: (input: Record<string, unknown>) => ({ n: input.n }) }),
      subConnect: "tcp://127.0.0.1:1",
      pullBind: "tcp://127.0.0.1:0",
      concurrency: 4,
    });
    await worker.start();
    t.after(() => worker.stop({ graceMs: 0 }));
    const dealer = new zmq.Dealer({ linger: 0, receiveTimeout: 10_000 });
    t.after(() => dealer.close());
    dealer.connect(worker.address);
    // As a pipeline server does: register the worker first (it runs jobs only from a server that did).
    await dealer.send(encode("welcome", { workerId: worker.workerId, serverId: "server-1", secret: "s".repeat(43) }));
    const base = { pipeline: "p", jobType: "work", stepIndex: 0, attempt: 1, timeoutMs: 5000 };
    const deliver = (ns: number[]) => dealer.send(encode("jobs", { serverId: "server-1", deliveries: ns.map((n) => ({ ...base, jobId: `j${n}`, token: `t${n}`, input: { n } })) }));
    const nextResults = async (): Promise<string[]> => {
      for (let read = 0; read < 20; read++) {
        const message = decode(await dealer.receive());
        if (message instanceof Error) throw message;
        if (message.type === "results") return message.body.outcomes.map((o) => o.jobId);
      }
      throw new Error("no results message among 20");
    };
    await deliver([1, 2, 3]);
    assert.deepEqual(await nextResults(), ["j1", "j2", "j3"], "three attempts that end in one turn: one message");
    await dealer.send(encode("ack", { acks: [1, 2, 3].map((n) => ({ jobId: `j${n}`, token: `t${n}` })) }));
    await deliver([4]);
    assert.deepEqual(await nextResults(), ["j4"]);
    await dealer.send(encode("ack", { acks: [{ jobId: "j4", token: "t4" }] }));
  });
});
