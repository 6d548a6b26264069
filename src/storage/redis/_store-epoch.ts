/**
 * Detects an emptied or replaced Redis. Each pipeline's `epoch` key is written when the first
 * process starts on this Redis (`claim-epoch-1.lua`) and remembered here; it is read again on
 * every reconnect and every `ping()`. Missing or changed, the store this process knew is gone
 * (FLUSHALL, a restart without persistence, another Redis behind the same address): the backend
 * refuses writes from then on, and `ping()` throws StorageLostError with the reason, which stops
 * the dispatcher and turns `/ready` to 503. Lost stays lost until the process restarts.
 */
import { StorageLostError } from "../../core/errors/storage-lost-error.ts";
import { newId } from "../../core/ids.ts";
import type { Logger } from "../../log/logger.ts";
import type { RedisClient } from "./connection.ts";
import type { PipelineKeys } from "./keys.ts";
import type { Scripts } from "./scripts.ts";

export class StoreEpoch {
  readonly #client: RedisClient;
  readonly #scripts: Scripts;
  readonly #where: string;
  readonly #logger: Logger;
  /** Pipeline → its keys and the epoch read at start. */
  readonly #known = new Map<string, { keys: PipelineKeys; epoch: string }>();
  #lost: StorageLostError | undefined;

  constructor(client: RedisClient, scripts: Scripts, where: string, logger: Logger) {
    this.#client = client;
    this.#scripts = scripts;
    this.#where = where;
    this.#logger = logger;
  }

  /** Reads (or writes, the first time) the epoch of each pipeline. */
  async claim(pipelines: readonly { name: string; keys: PipelineKeys }[]): Promise<void> {
    const candidate = newId();
    for (const { name, keys } of pipelines) {
      const epoch = await this.#scripts.claimEpoch(keys, candidate);
      const known = this.#known.get(name);
      if (known !== undefined && known.epoch !== epoch) this.#lose(name, known.epoch, epoch);
      else this.#known.set(name, { keys, epoch });
    }
  }

  /** Reads every known epoch again (one GET each, at once: on a cluster each is in its pipeline's slot); a missing or changed one marks the store lost. */
  async verify(): Promise<void> {
    if (this.#lost !== undefined || this.#known.size === 0) return;
    const entries = [...this.#known];
    const values = await Promise.all(entries.map(([, { keys }]) => this.#client.get(keys.epoch)));
    entries.forEach(([name, { epoch }], i) => {
      const value = values[i];
      if (value !== epoch) this.#lose(name, epoch, typeof value === "string" ? value : undefined);
    });
  }

  /** Throws StorageLostError once the store is lost (writes call this first). */
  assert(): void {
    if (this.#lost !== undefined) throw this.#lost;
  }

  #lose(pipeline: string, was: string, now: string | undefined): void {
    if (this.#lost !== undefined) return;
    const what = now === undefined ? "is gone" : `changed (${was} → ${now})`;
    this.#lost = new StorageLostError(
      `${this.#where} was emptied or replaced: the store epoch of pipeline "${pipeline}" ${what}, so the jobs it held are lost; dispatching stopped and writes refused (restart to start over on this store)`,
    );
    this.#logger.error("storage lost", { pipeline, reason: this.#lost.message });
  }
}
