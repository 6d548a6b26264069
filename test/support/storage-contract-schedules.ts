/**
 * The part of the storage contract about cron schedules (`StorageBackend.schedules`): definitions
 * declared per pipeline (replacing the previous set), the first-declared time kept across
 * declarations, the last tick recorded only forward, listings by pipeline. Run by storageContract
 * (test/support/storage-contract.ts) on every backend.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { StorageBackend, StorageOptions } from "../../src/storage/storage-backend.ts";

const P = "sched-pipe";
const Q = "sched-other";

export function schedulesContract(name: string, open: (options?: StorageOptions) => Promise<StorageBackend>): void {
  describe(`storage contract (schedules): ${name}`, () => {
    const start = async (): Promise<StorageBackend> => {
      const storage = await open();
      await storage.initialize([{ name: P, steps: ["first"] }, { name: Q, steps: ["first"] }]);
      return storage;
    };

    it("declares schedules with their definition and first-declared time; nothing ticked yet", async () => {
      const storage = await start();
      const states = await storage.schedules.declare(P, [{ name: "every-second", cron: "* * * * * *" }, { name: "nightly", cron: "0 3 * * *", timezone: "Europe/Paris" }], 1_000);
      assert.deepEqual(states.map((s) => [s.name, s.pipeline, s.cron, s.timezone, s.since, s.lastTick, s.lastJobId]), [
        ["every-second", P, "* * * * * *", undefined, 1_000, undefined, undefined],
        ["nightly", P, "0 3 * * *", "Europe/Paris", 1_000, undefined, undefined],
      ]);
      assert.deepEqual((await storage.schedules.list([P])).map((s) => s.name), ["every-second", "nightly"]);
      assert.deepEqual(await storage.schedules.list([Q]), [], "another pipeline has none");
    });

    it("a tick is recorded only when later than the last one: two servers racing on one tick record it once", async () => {
      const storage = await start();
      await storage.schedules.declare(P, [{ name: "s", cron: "* * * * * *" }], 1_000);
      assert.equal(await storage.schedules.recordTick(P, "s", 5_000, "job-a"), true);
      assert.equal(await storage.schedules.recordTick(P, "s", 5_000, "job-a"), false, "the same tick again");
      assert.equal(await storage.schedules.recordTick(P, "s", 4_000, "job-old"), false, "an earlier tick");
      let [state] = await storage.schedules.list([P]);
      assert.deepEqual([state?.lastTick, state?.lastJobId], [5_000, "job-a"]);
      assert.equal(await storage.schedules.recordTick(P, "s", 6_000, "job-b"), true);
      [state] = await storage.schedules.list([P]);
      assert.deepEqual([state?.lastTick, state?.lastJobId], [6_000, "job-b"]);
    });

    it("declaring again replaces the definitions of that pipeline only, and keeps since and the last tick", async () => {
      const storage = await start();
      await storage.schedules.declare(P, [{ name: "a", cron: "* * * * *" }, { name: "b", cron: "* * * * *" }], 1_000);
      await storage.schedules.declare(Q, [{ name: "c", cron: "0 * * * *" }], 1_000);
      await storage.schedules.recordTick(P, "a", 60_000, "job-1");
      const again = await storage.schedules.declare(P, [{ name: "a", cron: "*/2 * * * *", timezone: "UTC" }], 9_000);
      assert.deepEqual(again.map((s) => [s.name, s.cron, s.timezone, s.since, s.lastTick, s.lastJobId]), [["a", "*/2 * * * *", "UTC", 1_000, 60_000, "job-1"]]);
      assert.deepEqual((await storage.schedules.list([P, Q])).map((s) => `${s.pipeline}/${s.name}`), [`${P}/a`, `${Q}/c`], "b is no longer declared; Q untouched");
      const back = await storage.schedules.declare(P, [{ name: "a", cron: "*/2 * * * *" }, { name: "b", cron: "* * * * *" }], 20_000);
      assert.deepEqual(back.map((s) => [s.name, s.since]), [["a", 1_000], ["b", 1_000]], "a schedule declared again keeps when it was first seen");
    });
  });
}
