/** The wire protocol's encode/decode and the per-socket send queue (no network). */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ProtocolError } from "../../src/core/errors/protocol-error.ts";
import { OversizedMessageError } from "../../src/transport/oversized-message-error.ts";
import { decode, encode, PROTOCOL_VERSION } from "../../src/transport/protocol.ts";
import { SendQueue } from "../../src/transport/send-queue.ts";

const announce = {
  workerId: "w1",
  jobType: "generate-file",
  address: "tcp://127.0.0.1:4000",
  capacity: 4,
  inFlight: 0,
  host: "h",
  pid: 1,
  heartbeatMs: 1000,
  policy: { timeoutMs: 1000, retries: 2, backoff: { type: "fixed" as const, delayMs: 10 } },
};

describe("protocol", () => {
  it("round-trips every frame as [version, type, body]", () => {
    const frames = encode("announce", announce);
    assert.equal(frames.length, 3);
    assert.equal(frames[0].toString(), PROTOCOL_VERSION);
    assert.equal(frames[1].toString(), "announce");
    const decoded = decode(frames);
    assert.ok(!(decoded instanceof Error));
    assert.equal(decoded.type, "announce");
    assert.deepEqual(decoded.body, { ...announce, draining: false });
  });

  it("rejects a wrong version, an unknown type, bad JSON, a bad shape and a wrong frame count", () => {
    const body = Buffer.from(JSON.stringify(announce));
    const cases: Buffer[][] = [
      [Buffer.from("MARIO0"), Buffer.from("announce"), body],
      [Buffer.from(PROTOCOL_VERSION), Buffer.from("launch"), body],
      [Buffer.from(PROTOCOL_VERSION), Buffer.from("announce"), Buffer.from("{not json")],
      [Buffer.from(PROTOCOL_VERSION), Buffer.from("announce"), Buffer.from(JSON.stringify({ ...announce, capacity: -1 }))],
      [Buffer.from(PROTOCOL_VERSION), Buffer.from("announce")],
      [Buffer.from("garbage")],
      [],
    ];
    for (const frames of cases) {
      const result = decode(frames);
      assert.ok(result instanceof ProtocolError, `expected a ProtocolError for ${frames.map(String).join("|")}`);
      assert.equal(result.code, "PROTOCOL");
      assert.ok(!(result instanceof OversizedMessageError));
    }
  });

  it("rejects types a socket does not accept", () => {
    const result = decode(encode("ack", { acks: [] }), { accept: ["announce", "bye"] });
    assert.ok(result instanceof ProtocolError);
    assert.match(result.message, /not accepted/);
  });

  it("reports oversized messages apart, before parsing", () => {
    const frames = encode("enqueue", { requestId: "r", replyTo: "tcp://127.0.0.1:1", pipeline: "p", instructions: { blob: "x".repeat(2000) } });
    const result = decode(frames, { maxBytes: 1000 });
    assert.ok(result instanceof OversizedMessageError);
    assert.ok(result instanceof ProtocolError);
  });

  it("validates nested outcomes in results", () => {
    const good = { workerId: "w", outcomes: [{ jobId: "j", token: "t", ok: true as const, output: { a: 1 }, startedAt: 1, finishedAt: 2, workerId: "w" }] };
    assert.ok(!(decode(encode("results", good)) instanceof Error));
    const bad = { workerId: "w", outcomes: [{ jobId: "j", token: "t", ok: false, startedAt: 1, finishedAt: 2, workerId: "w" }] };
    assert.ok(decode(encode("results", bad as never)) instanceof ProtocolError);
  });

  it("refuses an announcement whose address a pipeline could not connect to (it would leak a socket per heartbeat)", () => {
    for (const address of ["bogus", "tcp://nohost", "tcp://h:99999", ""]) {
      const result = decode(encode("announce", { ...announce, address }));
      assert.ok(result instanceof ProtocolError, address);
      assert.match(result.message, /address/);
    }
    assert.ok(!(decode(encode("announce", { ...announce, address: "ipc:///tmp/mario-w1" })) instanceof Error));
  });

  it("carries a worker's stranded pipelines in its announcement, optionally, and validates them", () => {
    const decoded = decode(encode("announce", { ...announce, stranded: ["p"] }));
    assert.ok(!(decoded instanceof Error) && decoded.type === "announce");
    assert.deepEqual(decoded.body.stranded, ["p"]);
    const without = decode(encode("announce", announce));
    assert.ok(!(without instanceof Error) && without.type === "announce");
    assert.equal(without.body.stranded, undefined, "an announcement of an older worker is still valid");
    assert.ok(decode(encode("announce", { ...announce, stranded: [""] })) instanceof ProtocolError);
    assert.ok(decode(encode("announce", { ...announce, stranded: "p" } as never)) instanceof ProtocolError);
  });

  it("validates a server's hello: the pipelines it serves", () => {
    const decoded = decode(encode("hello", { pipelines: ["p", "q"] }), { accept: ["jobs", "ack", "hello"] });
    assert.ok(!(decoded instanceof Error));
    assert.deepEqual(decoded, { type: "hello", body: { pipelines: ["p", "q"] } });
    for (const bad of [{}, { pipelines: "p" }, { pipelines: [1] }, { pipelines: [""] }]) {
      assert.ok(decode(encode("hello", bad as never)) instanceof ProtocolError, JSON.stringify(bad));
    }
  });
});

describe("SendQueue", () => {
  it("keeps one send in flight, in order, and rejects what waits on close", async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const sent: string[] = [];
    const releases: (() => void)[] = [];
    const queue = new SendQueue({
      async send(frames) {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise<void>((resolve) => releases.push(resolve));
        sent.push(String(frames[0]));
        inFlight--;
      },
    });
    const a = queue.send(["a"]);
    const b = queue.send(["b"]);
    const c = queue.send(["c"]);
    const d = queue.send(["d"]);
    assert.equal(queue.length, 3);
    releases.shift()!();
    await a;
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(releases.length, 1, "b is in flight, c and d wait");
    queue.close(new Error("closed"));
    await assert.rejects(c, /closed/);
    await assert.rejects(d, /closed/);
    releases.shift()!();
    await b;
    await assert.rejects(queue.send(["e"]), /closed/);
    assert.deepEqual(sent, ["a", "b"]);
    assert.equal(maxInFlight, 1);
  });

  it("rejects the failed send only and goes on", async () => {
    const queue = new SendQueue({
      async send(frames) {
        if (String(frames[0]) === "bad") throw new Error("EAGAIN");
      },
    });
    const results = await Promise.allSettled([queue.send(["ok1"]), queue.send(["bad"]), queue.send(["ok2"])]);
    assert.deepEqual(results.map((r) => r.status), ["fulfilled", "rejected", "fulfilled"]);
  });

  it("rejectWaiting fails what waits behind the send in flight, and later sends queue as usual", async () => {
    const releases: (() => void)[] = [];
    const sent: string[] = [];
    const queue = new SendQueue({
      async send(frames) {
        await new Promise<void>((resolve) => releases.push(resolve));
        sent.push(String(frames[0]));
      },
    });
    const a = queue.send(["a"]);
    const b = queue.send(["b"]);
    const c = queue.send(["c"]);
    queue.rejectWaiting(new Error("peer gone"));
    await assert.rejects(b, /peer gone/);
    await assert.rejects(c, /peer gone/);
    releases.shift()!();
    await a;
    const d = queue.send(["d"]);
    await new Promise((resolve) => setImmediate(resolve));
    releases.shift()!();
    await d;
    assert.deepEqual(sent, ["a", "d"]);
  });
});
