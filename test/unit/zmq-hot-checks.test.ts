/**
 * The hand-written checks of the hot wire messages (_hot-checks.ts) against their zod schemas
 * (protocol.ts): over a corpus of valid bodies and of variations of them (each key missing, each
 * value replaced by junk of every type, strings and arrays at and past their length limits,
 * NaN/Infinity, unsafe integers, extra and `__proto__` keys, nested junk, and seeded random
 * combinations), both give the same verdict and, when they accept, the same value (keys, their
 * order, prototypes). decode() answers what zod answers, refusal message included.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ProtocolError } from "../../src/core/errors/protocol-error.ts";
import { HOT_CHECKS } from "../../src/transport/_hot-checks.ts";
import { decode, encodeJson, schemas, type MessageType } from "../../src/transport/protocol.ts";

const line = (msg = "hi") => ({ t: 1.5, level: "info", msg });
const valid: Record<string, unknown[]> = {
  jobs: [
    {
      serverId: "s1",
      deliveries: [
        { jobId: "j1", token: "t1", pipeline: "p", jobType: "a", stepIndex: 0, attempt: 1, input: { i: 1, deep: { x: [1, null] } }, timeoutMs: 1000, expiresAt: 1_700_000_000_000 },
        { jobId: "j2", token: "t2", pipeline: "p", jobType: "b", stepIndex: 2, attempt: 3, input: {}, timeoutMs: 1 },
      ],
    },
    { deliveries: [{ jobId: "j", token: "t", pipeline: "p", jobType: "a", stepIndex: 0, attempt: 1, input: { a: "b" }, timeoutMs: 5 }] },
  ],
  results: [
    {
      workerId: "w1",
      outcomes: [
        { jobId: "j1", token: "t1", pipeline: "p", startedAt: 1, finishedAt: 2.5, workerId: "w1", logs: [line(), { t: 2, level: "error", msg: "" }], dropped: 0, ok: true, output: { n: 1 } },
        { jobId: "j2", token: "t2", startedAt: 1, finishedAt: 2, workerId: "w1", ok: false, error: { name: "Error", message: "boom", stack: "at x", code: "E", retryable: false } },
        { ok: true, output: null, jobId: "j3", token: "t3", startedAt: 0, finishedAt: 0, workerId: "w1" },
        { ok: false, error: { name: "", message: "" }, jobId: "j4", token: "t4", startedAt: -1, finishedAt: 1e300, workerId: "w", logs: [], dropped: 7 },
      ],
    },
  ],
  ack: [{ acks: [{ jobId: "j1", token: "t1" }, { jobId: "j2", token: "t2" }] }, { acks: [] }],
  enqueues: [
    {
      replyTo: "tcp://127.0.0.1:5000",
      requests: [
        { requestId: "r1", pipeline: "p", instructions: { a: 1 }, idempotencyKey: "k1", delayMs: 10, runAt: "2026-12-01T10:00:00Z", priority: 3 },
        { requestId: "r2", pipeline: "p", instructions: null },
        { requestId: "r3", pipeline: "p", instructions: [1, 2], delayMs: null, runAt: { x: 1 }, priority: "high" },
      ],
    },
    { replyTo: "x", requests: [{ requestId: "r1", pipeline: "p", instructions: {} }], held: {} },
    { replyTo: "x", requests: [{ requestId: "r1", pipeline: "p", instructions: {} }], held: { p: 3, q: 0 } },
  ],
  waits: [{ replyTo: "x", requests: [{ requestId: "r1", jobId: "j1", timeoutMs: 0 }, { requestId: "r2", jobId: "j2", timeoutMs: 60_000 }] }],
  runs: [
    {
      replyTo: "tcp://127.0.0.1:5000",
      requests: [
        { requestId: "r1", pipeline: "p", instructions: { a: 1 }, idempotencyKey: "k1", delayMs: 10, runAt: "2026-12-01T10:00:00Z", priority: 3, timeoutMs: 60_000, ackMs: 5000 },
        { requestId: "r2", pipeline: "p", instructions: null, timeoutMs: 0 },
        { timeoutMs: 1, ackMs: 0, requestId: "r3", pipeline: "p", instructions: [1, 2], delayMs: null, runAt: { x: 1 }, priority: "high" },
      ],
    },
    { replyTo: "x", requests: [{ requestId: "r1", pipeline: "p", instructions: {}, timeoutMs: 10 }], held: {} },
    { replyTo: "x", requests: [{ requestId: "r1", pipeline: "p", instructions: {}, timeoutMs: 10, ackMs: 3 }], held: { p: 3, q: 0 } },
  ],
  replies: [
    {
      replies: [
        { requestId: "r1", ok: true, job: { id: "j1", status: "queued", instructions: { a: 1 } }, duplicate: false },
        { requestId: "r2", ok: false, error: { code: "BUSY", message: "busy" } },
        { requestId: "r3", ok: true, cancel: "final", job: {} },
        { requestId: "r4", ok: true, cancel: "cancelling", duplicate: true },
        { requestId: "r5", ok: true, job: { id: "j5", status: "queued" }, duplicate: false, pending: true },
        { requestId: "r6", ok: false, job: { id: "j6" }, pending: false, error: { code: "WAIT_TIMEOUT", message: "still queued" } },
      ],
    },
  ],
};

const HOT: readonly MessageType[] = ["jobs", "results", "ack", "enqueues", "waits", "runs", "replies"];

const emoji = "\u{1F600}";
/**
 * Junk for any position: every JSON type, boundary numbers and strings at the limits the schemas
 * use, and NaN/Infinity (which JSON.parse gives as 1e999). Not `undefined`: a parsed body never
 * holds one, and the checks take what JSON.parse gives.
 */
const junk: unknown[] = [
  null, true, false, 0, -0, 1, -1, 0.5, 1.5, 2 ** 53 - 1, 2 ** 53, -(2 ** 53), 1e308, NaN, Infinity, -Infinity,
  "", "x", "a".repeat(32), "a".repeat(40), "a".repeat(64), "a".repeat(65), "a".repeat(200), "a".repeat(201),
  emoji, emoji.repeat(64), emoji.repeat(65), emoji.repeat(200), emoji.repeat(201), "\ud800".repeat(200), "\ud800".repeat(201),
  emoji.repeat(100) + "a".repeat(100), emoji.repeat(100) + "a".repeat(101), "\udc00\ud800", "a".repeat(8192), "a".repeat(8193), emoji.repeat(8192), emoji.repeat(8193),
  "debug", "warn", "fatal", "cancelled", "final", "nope",
  [], [1], [{}], [null], {}, { a: 1 }, { __proto__: null }, JSON.parse('{"__proto__":{"x":1}}'), { nested: { junk: [[[]]] } }, { jobId: "j", token: "t" },
];

type Path = (string | number)[];

/** Every path to a value inside `value` (objects and arrays), the root excluded. */
function paths(value: unknown, prefix: Path = []): Path[] {
  const found: Path[] = [];
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      found.push([...prefix, i], ...paths(item, [...prefix, i]));
    });
  } else if (typeof value === "object" && value !== null) {
    for (const key of Object.keys(value)) found.push([...prefix, key], ...paths((value as Record<string, unknown>)[key], [...prefix, key]));
  }
  return found;
}

const clone = <T>(value: T): T => structuredClone(value);

/** A copy of `root` with the value at `path` changed by `change` (which may delete it). */
function edit(root: unknown, path: Path, change: (parent: Record<string | number, unknown>, key: string | number) => void): unknown {
  const copy = clone(root);
  let parent = copy as Record<string | number, unknown>;
  for (const step of path.slice(0, -1)) parent = parent[step] as Record<string | number, unknown>;
  change(parent, path[path.length - 1]!);
  return copy;
}

function* variations(base: unknown): Generator<unknown> {
  yield base;
  for (const j of junk) yield j;
  for (const path of paths(base)) {
    yield edit(base, path, (parent, key) => {
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key];
    });
    for (const j of junk) yield edit(base, path, (parent, key) => void (parent[key] = clone(j)));
  }
  for (const path of [[], ...paths(base)]) {
    const at = path.reduce<unknown>((v, k) => (v as Record<string | number, unknown>)[k], base);
    if (Array.isArray(at)) {
      const grow = (n: number) => Array.from({ length: n }, (_, i) => clone(at[i % Math.max(1, at.length)]));
      for (const n of [0, 1, 1000, 1001, 10_000, 10_001]) {
        if (at.length === 0 && n > 0) continue;
        yield path.length === 0 ? grow(n) : edit(base, path, (parent, key) => void (parent[key] = grow(n)));
      }
    } else if (typeof at === "object" && at !== null) {
      const extra = (o: Record<string, unknown>) => {
        o.zzExtra = { junk: [1, { x: null }] };
        Object.defineProperty(o, "__proto__", { value: { polluted: true }, enumerable: true, configurable: true, writable: true });
      };
      if (path.length === 0) {
        const copy = clone(base) as Record<string, unknown>;
        extra(copy);
        yield copy;
        // The same through JSON.parse, the way the wire delivers an own "__proto__".
        yield JSON.parse(JSON.stringify(base).replace(/^\{/, '{"__proto__":{"x":1},'));
      } else {
        yield edit(base, path, (parent, key) => extra(parent[key] as Record<string, unknown>));
      }
    }
  }
}

/** A seeded PRNG (mulberry32), so the random combinations are the same every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function* combinations(base: unknown, count: number, rand: () => number): Generator<unknown> {
  for (let n = 0; n < count; n++) {
    let body = clone(base);
    for (let edits = 1 + Math.floor(rand() * 3); edits > 0; edits--) {
      const all = paths(body);
      if (all.length === 0) break;
      const path = all[Math.floor(rand() * all.length)]!;
      const r = rand();
      if (r < 0.2) body = edit(body, path, (parent, key) => (Array.isArray(parent) ? parent.splice(key as number, 1) : delete parent[key]));
      else if (r < 0.3) body = edit(body, path, (parent, key) => void (parent[`${key}x`] = clone(junk[Math.floor(rand() * junk.length)])));
      else body = edit(body, path, (parent, key) => void (parent[key] = clone(junk[Math.floor(rand() * junk.length)])));
    }
    yield body;
  }
}

/** Same verdict; when accepted, the same value, the same keys in the same order at every level. */
function same(type: MessageType, body: unknown): "accepted" | "refused" {
  const check = HOT_CHECKS[type]!;
  const zod = schemas[type].safeParse(body);
  const hot = check(body);
  const shown = (): string => JSON.stringify(body)?.slice(0, 300) ?? String(body);
  assert.equal(hot !== undefined, zod.success, `${type}: hot check ${hot === undefined ? "refused" : "accepted"}, zod ${zod.success ? "accepted" : "refused"}: ${shown()}`);
  if (zod.success) {
    assert.deepStrictEqual(hot, zod.data, `${type}: values differ for ${shown()}`);
    assert.equal(JSON.stringify(hot), JSON.stringify(zod.data), `${type}: key order differs for ${shown()}`);
    return "accepted";
  }
  return "refused";
}

describe("hot message checks equal their zod schemas", () => {
  for (const type of HOT) {
    it(`${type}: same verdict and output over valid bodies and their variations`, () => {
      const tally = { accepted: 0, refused: 0 };
      const rand = random(16);
      for (const base of valid[type]!) {
        for (const body of variations(base)) tally[same(type, body)]++;
        for (const body of combinations(base, 400, rand)) tally[same(type, body)]++;
      }
      // The corpus exercises both sides.
      assert.ok(tally.accepted >= 20, `${type}: only ${tally.accepted} accepted bodies`);
      assert.ok(tally.refused >= 200, `${type}: only ${tally.refused} refused bodies`);
    });
  }

  it("covers every type that has a check", () => {
    assert.deepEqual(Object.keys(HOT_CHECKS).sort(), [...HOT].sort());
  });

  it("decode answers the body zod parses, and zod's refusal for a body the check refuses", () => {
    const body = valid.results![0] as { outcomes: Record<string, unknown>[] };
    const withExtra = { ...body, extra: 1, outcomes: body.outcomes.map((o) => ({ ...o, junk: [1] })) };
    const decoded = decode(encodeJson("results", JSON.stringify(withExtra)));
    assert.ok(!(decoded instanceof Error));
    assert.deepStrictEqual(decoded.body, schemas.results.parse(withExtra));

    const broken = { ...body, outcomes: [{ ...body.outcomes[0], attempt: 1, startedAt: "soon" }] };
    const refused = decode(encodeJson("results", JSON.stringify(broken)));
    assert.ok(refused instanceof ProtocolError);
    assert.equal(refused.code, "PROTOCOL");
    const issue = schemas.results.safeParse(broken).error!.issues[0]!;
    assert.equal(refused.message, `invalid "results" body at ${issue.path.join(".")}: ${issue.message}`);

    // JSON's own Infinity (1e999) and an unsafe integer, through the real decode.
    const infinite = decode(encodeJson("waits", '{"replyTo":"x","requests":[{"requestId":"r","jobId":"j","timeoutMs":1e999}]}'));
    assert.ok(infinite instanceof ProtocolError);
    const unsafe = decode(encodeJson("jobs", JSON.stringify({ deliveries: [{ ...(valid.jobs![1] as { deliveries: object[] }).deliveries[0], attempt: 2 ** 53 }] })));
    assert.ok(unsafe instanceof ProtocolError);
  });
});
