/**
 * One client's bad enqueue must not poison the intake batch it shares with others: the requests
 * read in one tick go to storage in one enqueueJobs call, and instructions nested too deep for
 * storage to copy would once make every request of the batch answer STORAGE_UNAVAILABLE (while
 * the memory backend had created some of them: a client retrying would create its job twice).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import * as zmq from "zeromq";
import { MemoryStorageBackend } from "../../src/storage/memory/memory-storage-backend.ts";
import { PipelineServer } from "../../src/transport/pipeline-server.ts";
import { decode, encode } from "../../src/transport/protocol.ts";

test("a malformed request does not fail, nor silently create, other clients' jobs read in the same batch", async (t) => {
  const storage = new MemoryStorageBackend();
  const server = new PipelineServer({ pipelines: [{ name: "p", steps: ["a"] }], storage, subBind: "tcp://127.0.0.1:0", jobPullBind: "tcp://127.0.0.1:0" });
  await server.start();
  t.after(() => server.stop());

  const replies = new zmq.Pull({ linger: 0, receiveTimeout: 10_000 });
  await replies.bind("tcp://127.0.0.1:0");
  const replyTo = replies.lastEndpoint!;
  const push = new zmq.Push({ linger: 0 });
  push.connect(server.jobPullAddress);
  t.after(() => {
    push.close();
    replies.close();
  });

  const valid = 20;
  // 20 000 levels: JSON.parse (the server's decode) takes it, structuredClone/JSON.stringify do not.
  const deep = '{"a":'.repeat(20_000) + "1" + "}".repeat(20_000);
  const queue: Buffer[][] = [];
  for (let i = 0; i < valid; i++) queue.push(encode("enqueue", { requestId: `ok-${i}`, replyTo, pipeline: "p", instructions: { i } }));
  const [version, type] = encode("enqueue", { requestId: "deep", replyTo, pipeline: "p", instructions: {} });
  queue.push([version, type, Buffer.from(`{"requestId":"deep","replyTo":${JSON.stringify(replyTo)},"pipeline":"p","instructions":${deep}}`)]);
  // Sent back to back: the server reads them in one tick, so they share one intake batch.
  for (const frames of queue) await push.send(frames);

  const answers = new Map<string, { ok: boolean; code?: string }>();
  while (answers.size < valid + 1) {
    const frames = await replies.receive();
    const message = decode(frames);
    assert.ok(!(message instanceof Error) && message.type === "reply");
    answers.set(message.body.requestId, { ok: message.body.ok, code: message.body.error?.code });
  }
  const failedValid = [...answers].filter(([id, a]) => id !== "deep" && !a.ok);
  const stored = (await storage.listJobs({ pipeline: "p", limit: 1000 })).length;
  const acceptedReplies = [...answers.values()].filter((a) => a.ok).length;
  assert.equal(stored, acceptedReplies, `storage holds ${stored} jobs but only ${acceptedReplies} clients were told their job was accepted`);
  assert.deepEqual(failedValid, [], "valid requests were answered with an error because of another client's request");
});
