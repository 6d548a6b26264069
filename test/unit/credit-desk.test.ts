/**
 * CreditDesk (the server's half of credit at the queue limit), with a clock of the test's own:
 * freed places go round robin to the clients waiting, none more than it holds; a client that
 * says it holds none leaves; one not heard for the TTL is forgotten; nobody waiting, nothing kept.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CreditDesk } from "../../src/transport/_credit-desk.ts";

function desk(): { desk: CreditDesk; sent: [string, Record<string, number>][]; clock: { now: number }; handOut: () => Promise<void> } {
  const sent: [string, Record<string, number>][] = [];
  const clock = { now: 1_000 };
  const d = new CreditDesk({ send: (replyTo, grants) => sent.push([replyTo, grants]), ttlMs: 3000, now: () => clock.now, gapMs: 0 });
  // Places are handed out on the next turn of the event loop.
  const handOut = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
  return { desk: d, sent, clock, handOut };
}

describe("CreditDesk", () => {
  it("hands freed places round robin, one each in turn, none more than a client holds", async () => {
    const { desk: d, sent, handOut } = desk();
    d.heard("a", { p: 10 });
    d.heard("b", { p: 2 });
    for (let i = 0; i < 7; i++) d.finished("p");
    await handOut();
    assert.deepEqual(Object.fromEntries(sent), { a: { p: 5 }, b: { p: 2 } });
    assert.equal(d.counts.granted, 7);
    // b got all it holds: a alone waits, for 5 more.
    sent.length = 0;
    for (let i = 0; i < 9; i++) d.finished("p");
    await handOut();
    assert.deepEqual(sent, [["a", { p: 5 }]]);
    assert.equal(d.waiting("p"), 0);
  });

  it("turns go on across hand-outs: the client not served last time is served first", async () => {
    const { desk: d, sent, handOut } = desk();
    d.busy("a", "p");
    d.busy("a", "p");
    d.busy("b", "p");
    d.busy("b", "p");
    d.finished("p");
    await handOut();
    d.finished("p");
    await handOut();
    assert.deepEqual(sent, [["a", { p: 1 }], ["b", { p: 1 }]]);
  });

  it("a client that holds none leaves; places freed while nobody waits are not kept", async () => {
    const { desk: d, sent, handOut } = desk();
    d.finished("p");
    d.heard("a", { p: 3 });
    d.heard("a", { p: 0 });
    d.finished("p");
    await handOut();
    assert.deepEqual(sent, []);
    d.heard("a", { p: 1 });
    d.finished("p");
    await handOut();
    assert.deepEqual(sent, [["a", { p: 1 }]]);
  });

  it("a client not heard for the TTL is forgotten: what it would have had goes to the others", async () => {
    const { desk: d, sent, clock, handOut } = desk();
    d.heard("gone", { p: 100 });
    clock.now += 2000;
    d.heard("live", { p: 100 });
    clock.now += 1500;
    for (let i = 0; i < 4; i++) d.finished("p");
    await handOut();
    assert.deepEqual(sent, [["live", { p: 4 }]]);
    assert.equal(d.counts.expired, 1);
  });

  it("each pipeline has its own waiters; one message per client for all of them", async () => {
    const { desk: d, sent, handOut } = desk();
    d.heard("a", { p: 5, q: 5 });
    d.heard("b", { q: 5 });
    d.finished("p");
    d.finished("q");
    d.finished("q");
    await handOut();
    assert.deepEqual(Object.fromEntries(sent), { a: { p: 1, q: 1 }, b: { q: 1 } });
  });
});

describe("CreditDesk bounds", () => {
  it("keeps no waiter for a pipeline it does not serve, and at most maxWaiters per pipeline", async () => {
    const sent: [string, Record<string, number>][] = [];
    const d = new CreditDesk({ send: (replyTo, grants) => sent.push([replyTo, grants]), serves: (p) => p === "p", maxWaiters: 2, gapMs: 0 });
    d.heard("a", { bogus: 5, p: 1 });
    d.busy("a", "other");
    d.heard("b", { p: 1 });
    d.heard("c", { p: 1 });
    assert.equal(d.waiting("bogus"), 0);
    assert.equal(d.waiting("other"), 0);
    assert.equal(d.waiting("p"), 2);
    for (let i = 0; i < 3; i++) d.finished("p");
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(Object.fromEntries(sent), { a: { p: 1 }, b: { p: 1 } });
  });
});
