/**
 * The Redis backend's schedule store (see ../schedule-store.ts): one HASH per pipeline,
 * `P:N:{p}:schedules`, under the pipeline's hash tag (one slot on a Redis Cluster). Changes are
 * the scripts `declare-schedules-1.lua` and `record-tick-1.lua`; a listing reads each
 * pipeline's hash (in parallel: on a cluster, each on its own node).
 */
import type { ScheduleSpec, ScheduleState, ScheduleStore } from "../schedule-store.ts";
import { pairsOf, type RedisClient } from "./connection.ts";
import type { RedisKeys } from "./keys.ts";
import type { Scripts } from "./scripts.ts";

/** A stored definition (written by this module; checked by hand, so this entry loads no zod). */
function definitionOf(text: string): ScheduleSpec | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const { cron, timezone } = value as Record<string, unknown>;
  if (typeof cron !== "string" || (timezone !== undefined && typeof timezone !== "string")) return undefined;
  return { name: "", cron, timezone };
}

export interface RedisScheduleStoreOptions {
  client: RedisClient;
  keys: RedisKeys;
  scripts: Scripts;
  /** Runs a call, turning a driver's error into Mario's (the backend's own wrapper). */
  io: <T>(work: () => Promise<T>) => Promise<T>;
}

export class RedisScheduleStore implements ScheduleStore {
  readonly #o: RedisScheduleStoreOptions;

  constructor(options: RedisScheduleStoreOptions) {
    this.#o = options;
  }

  async declare(pipeline: string, schedules: readonly ScheduleSpec[], now: number): Promise<ScheduleState[]> {
    const key = this.#o.keys.pipeline(pipeline).schedules;
    const pairs = schedules.map((s): [string, string] => [s.name, JSON.stringify({ cron: s.cron, timezone: s.timezone })]);
    const flat = await this.#o.io(() => this.#o.scripts.declareSchedules(key, now, pairs));
    const states = statesOf(pipeline, Object.fromEntries(pairsOf(flat)));
    return schedules.flatMap((s) => states.find((state) => state.name === s.name) ?? []);
  }

  async recordTick(pipeline: string, name: string, tick: number, jobId: string): Promise<boolean> {
    return this.#o.io(() => this.#o.scripts.recordTick(this.#o.keys.pipeline(pipeline).schedules, name, tick, jobId));
  }

  async list(pipelines: readonly string[]): Promise<ScheduleState[]> {
    const hashes = await this.#o.io(() => Promise.all(pipelines.map((p) => this.#o.client.hgetall(this.#o.keys.pipeline(p).schedules))));
    return pipelines.flatMap((pipeline, i) => statesOf(pipeline, hashes[i] ?? {}));
  }
}

/** The declared schedules of one pipeline's hash, by name; a definition that does not parse is skipped. */
function statesOf(pipeline: string, hash: Record<string, string>): ScheduleState[] {
  const states: ScheduleState[] = [];
  for (const [field, value] of Object.entries(hash)) {
    if (!field.startsWith("def:")) continue;
    const name = field.slice(4);
    const definition = definitionOf(value);
    if (definition === undefined) continue;
    const last = hash[`last:${name}`];
    const bar = last?.indexOf("|") ?? -1;
    states.push({
      name,
      pipeline,
      cron: definition.cron,
      timezone: definition.timezone,
      since: Number(hash[`since:${name}`] ?? 0),
      lastTick: last === undefined || bar < 0 ? undefined : Number(last.slice(0, bar)),
      lastJobId: last === undefined || bar < 0 ? undefined : last.slice(bar + 1),
    });
  }
  return states.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
