/**
 * The Redis command timeout (src/storage/redis/_command-timeout.ts) against a real redis-server:
 * a stalled Redis (SIGSTOP) fails a command as "Command timed out"; a command whose answer came
 * while this process was busy (its event loop blocked past the timeout) succeeds, as do commands
 * queued behind big replies Redis is still sending.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createClient, type RedisClient } from "../../src/storage/redis/connection.ts";
import { startRedis, type RedisServer } from "../support/redis-server.ts";

/** Keeps this thread busy (no event loop turn) for `ms`. */
function busy(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // spin
  }
}

describe("redis command timeout", () => {
  let redis: RedisServer;
  let client: RedisClient;

  before(async () => {
    redis = await startRedis();
    client = createClient(redis.url, { commandTimeoutMs: 200 });
    client.on("error", () => {});
    await client.connect();
  });
  after(async () => {
    client.disconnect();
    await redis.destroy();
  });

  it("a command answered while this process was busy past the timeout succeeds", async () => {
    const reply = client.ping();
    busy(600);
    assert.equal(await reply, "PONG");
  });

  it("commands behind big replies succeed while Redis keeps answering", async () => {
    const blob = "x".repeat(1024 * 1024);
    await client.set("big", blob);
    // 64 MB of replies ahead of the last PING: far longer than 200 ms to read.
    const reads = Array.from({ length: 64 }, () => client.get("big"));
    const last = client.ping();
    const lengths = (await Promise.all(reads)).map((value) => value?.length);
    assert.deepEqual(lengths, Array.from({ length: 64 }, () => blob.length));
    assert.equal(await last, "PONG");
  });

  it("a stalled Redis fails the command as timed out", async () => {
    process.kill(redis.pid, "SIGSTOP");
    try {
      await assert.rejects(client.ping(), /Command timed out/);
    } finally {
      process.kill(redis.pid, "SIGCONT");
    }
    assert.equal(await client.ping(), "PONG");
  });
});
