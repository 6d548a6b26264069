/**
 * A step worker's results re-addressed when their pipeline server goes away (no network): the
 * ResultBook moves them to a live peer of the same pipeline or parks them, and the PeerDirectory
 * says which peers serve which pipelines.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { StepOutcome } from "../../src/engine/delivery.ts";
import { PeerDirectory } from "../../src/transport/_peer-directory.ts";
import { ResultBook } from "../../src/transport/_result-book.ts";

const RESEND_MS = 100;
const MAX_SENDS = 3;

function outcome(jobId: string): StepOutcome {
  return { jobId, token: `t-${jobId}`, ok: true, output: { jobId }, startedAt: 1, finishedAt: 2, workerId: "w" };
}

function keyOf(jobId: string): string {
  return `${jobId}\u0000t-${jobId}`;
}

/** The job ids sent to each peer, by the peer's first byte. */
function sent(byPeer: Map<Buffer, StepOutcome[]>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [peer, outcomes] of byPeer) out[peer.toString()] = outcomes.map((o) => o.jobId).sort();
  return out;
}

describe("ResultBook: re-addressing results of a peer that went away", () => {
  const old = Buffer.from("old");
  const fresh = Buffer.from("new");
  const other = Buffer.from("other");

  it("moves the gone peer's results to the peer its pick names for their pipeline, and only those", () => {
    const book = new ResultBook(RESEND_MS, MAX_SENDS);
    book.add(keyOf("a"), old, "p", outcome("a"), 0);
    book.add(keyOf("b"), old, "q", outcome("b"), 0);
    book.add(keyOf("c"), other, "p", outcome("c"), 0);
    assert.deepEqual(sent(book.takeUnsent(0)), { old: ["a", "b"], other: ["c"] });

    const moved = book.readdress(old, (pipeline) => (pipeline === "p" ? fresh : other), 10);
    assert.equal(moved, 2);
    assert.equal(book.parked, 0);
    // Sent at once by the next takeUnsent, not held back until they are due.
    assert.deepEqual(sent(book.takeUnsent(10)), { new: ["a"], other: ["b"] });
    assert.deepEqual(sent(book.takeDue(10).due), {}, "nothing due again before resendMs");
    assert.deepEqual(sent(book.takeDue(10 + RESEND_MS).due), { new: ["a"], other: ["b", "c"] });
  });

  it("a result re-addressed before it was ever sent goes out once, to the new peer", () => {
    const book = new ResultBook(RESEND_MS, MAX_SENDS);
    book.add(keyOf("a"), old, "p", outcome("a"), 0);
    book.readdress(old, () => fresh, 0);
    assert.deepEqual(sent(book.takeUnsent(0)), { new: ["a"] });
    assert.deepEqual(sent(book.takeUnsent(0)), {});
  });

  it("parks results with no live peer: never sent, no send counted, listed by pipeline, until a peer turns up", () => {
    const book = new ResultBook(RESEND_MS, MAX_SENDS);
    book.add(keyOf("a"), old, "p", outcome("a"), 0);
    book.add(keyOf("b"), old, "q", outcome("b"), 0);
    book.takeUnsent(0);
    assert.equal(book.readdress(old, () => undefined, 5), 0);
    assert.equal(book.parked, 2);
    assert.deepEqual(book.parkedPipelines().sort(), ["p", "q"]);
    // Many resend ticks while parked: nothing sent, nothing given up before the parked budget.
    for (let now = 5; now < 5 + RESEND_MS * MAX_SENDS; now += RESEND_MS / 2) {
      const { due, expired } = book.takeDue(now);
      assert.equal(due.size, 0);
      assert.equal(expired, 0);
    }
    assert.equal(book.unpark(() => undefined), 0);
    assert.equal(book.unpark((pipeline) => (pipeline === "p" ? fresh : undefined), 50), 1);
    assert.equal(book.parked, 1);
    assert.deepEqual(book.parkedPipelines(), ["q"]);
    assert.deepEqual(sent(book.takeUnsent(50)), { new: ["a"] });
    // Its sends: one to the gone peer, one now; it is given up after MAX_SENDS in all.
    assert.deepEqual(sent(book.takeDue(50 + RESEND_MS).due), { new: ["a"] });
    const last = book.takeDue(50 + 2 * RESEND_MS);
    assert.equal(last.due.size, 0);
    assert.equal(last.expired, 1);
    assert.ok(!book.has(keyOf("a")), "given up after maxSends");
    assert.ok(book.has(keyOf("b")), "still parked, within its budget");
  });

  it("gives a parked result up after as long as maxSends sends would take", () => {
    const book = new ResultBook(RESEND_MS, MAX_SENDS);
    book.add(keyOf("a"), undefined, "p", outcome("a"), 1000);
    assert.equal(book.parked, 1);
    assert.deepEqual(sent(book.takeUnsent(1000)), {}, "a result added with no peer is not sent");
    assert.equal(book.takeDue(1000 + RESEND_MS * MAX_SENDS - 1).expired, 0);
    assert.equal(book.takeDue(1000 + RESEND_MS * MAX_SENDS).expired, 1);
    assert.equal(book.size, 0);
    assert.equal(book.parked, 0);
  });

  it("an ack of a parked result removes it from the parked count", () => {
    const book = new ResultBook(RESEND_MS, MAX_SENDS);
    book.add(keyOf("a"), undefined, "p", outcome("a"), 0);
    book.add(keyOf("b"), fresh, "p", outcome("b"), 0);
    book.ack([{ jobId: "a", token: "t-a" }, { jobId: "b", token: "t-b" }, { jobId: "zz", token: "t-zz" }]);
    assert.equal(book.size, 0);
    assert.equal(book.parked, 0);
    assert.deepEqual(book.parkedPipelines(), []);
  });
});

describe("PeerDirectory", () => {
  it("interns one Buffer per routing id, learns pipelines, prefers the peer heard from last, forgets gone ones", () => {
    const peers = new PeerDirectory();
    const a = peers.intern(Buffer.from([0, 1]));
    assert.equal(peers.intern(Buffer.from([0, 1])), a, "the same Buffer for the same routing id");
    const b = peers.intern(Buffer.from([0, 2]));
    peers.learn(a, "p");
    peers.learn(b, "p");
    peers.learn(b, "q");
    assert.equal(peers.peerFor("p"), b);
    peers.intern(Buffer.from([0, 1]));
    assert.equal(peers.peerFor("p"), a, "heard from last");
    assert.equal(peers.peerFor("q"), b);
    assert.equal(peers.peerFor("r"), undefined);
    assert.equal(peers.forget(Buffer.from([0, 2])), true);
    assert.equal(peers.forget(b), false, "already gone");
    assert.equal(peers.has(b), false);
    assert.equal(peers.peerFor("q"), undefined);
    assert.deepEqual(peers.peers(), [a]);
  });
});
