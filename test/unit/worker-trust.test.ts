/** The pure parts of worker trust: bounds of a stated policy, admission of new worker ids, proofs. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { boundCapacity, boundHeartbeat, boundStatedPolicy, DEFAULT_POLICY_BOUNDS } from "../../src/core/policy-bounds.ts";
import { WorkerAdmission } from "../../src/transport/_worker-admission.ts";
import { newWorkerSecret, sealAnnouncement, sealBye, verify } from "../../src/transport/_worker-proof.ts";

describe("worker trust", () => {
  it("keeps a stated policy within bounds and names what it moved", () => {
    const { config, clamped } = boundStatedPolicy({ timeoutMs: 596 * 3_600_000, retries: 0, backoff: { delayMs: 1e9 } }, DEFAULT_POLICY_BOUNDS);
    assert.deepEqual(config, { timeoutMs: 600_000, retries: 1, backoff: { delayMs: 3_600_000 } });
    assert.equal(clamped.length, 3);
    assert.deepEqual(boundStatedPolicy({ timeoutMs: 5000, retries: 2 }, DEFAULT_POLICY_BOUNDS), { config: { timeoutMs: 5000, retries: 2 }, clamped: [] });
    assert.equal(boundCapacity(5000, DEFAULT_POLICY_BOUNDS), 256);
    assert.equal(boundHeartbeat(1, DEFAULT_POLICY_BOUNDS), 50);
    assert.equal(boundHeartbeat(10 ** 9, DEFAULT_POLICY_BOUNDS), 30_000);
  });

  it("admits an id announced twice, within the worker limit and the rate; counts one-shot ids forgotten", () => {
    const admission = new WorkerAdmission({ maxWorkers: 3, maxNewPerSecond: 2 });
    assert.equal(admission.consider("a", 0, 0), "wait");
    assert.equal(admission.consider("a", 0, 10), "admit");
    assert.equal(admission.consider("b", 1, 20), "wait");
    assert.equal(admission.consider("b", 3, 30), "WORKER_LIMIT");
    assert.equal(admission.consider("b", 1, 40), "admit");
    assert.equal(admission.consider("c", 2, 50), "wait");
    assert.equal(admission.consider("c", 2, 60), "CONNECTION_RATE", "two admitted in the last second");
    assert.equal(admission.consider("c", 2, 1100), "admit", "a second later");
    for (let i = 0; i < 5000; i++) admission.consider(`fake-${i}`, 0, 2000);
    assert.ok(admission.takeForgotten() >= 5000 - 4096);
    assert.equal(admission.takeForgotten(), 0);
  });

  it("a proof holds only for the secret, the fields and the sequence it sealed", () => {
    const secret = newWorkerSecret();
    const a = { workerId: "w", seq: 3, jobType: "t", address: "tcp://127.0.0.1:1", capacity: 4, draining: false, heartbeatMs: 100 };
    const proof = sealAnnouncement(secret, a);
    assert.ok(verify(proof, sealAnnouncement(secret, a)));
    assert.ok(!verify(proof, sealAnnouncement(secret, { ...a, capacity: 5000 })));
    assert.ok(!verify(proof, sealAnnouncement(secret, { ...a, seq: 4 })));
    assert.ok(!verify(proof, sealAnnouncement(newWorkerSecret(), a)));
    assert.ok(!verify(undefined, proof));
    assert.ok(!verify(sealBye(secret, { workerId: "w", seq: 3, final: true, handBack: [] }), proof));
  });
});
