/** The memory backend's schedule store (see ../schedule-store.ts). */
import type { ScheduleSpec, ScheduleState, ScheduleStore } from "../schedule-store.ts";

interface Entry {
  spec?: ScheduleSpec | undefined;
  since: number;
  lastTick?: number | undefined;
  lastJobId?: string | undefined;
}

export class MemoryScheduleStore implements ScheduleStore {
  readonly #byPipeline = new Map<string, Map<string, Entry>>();

  async declare(pipeline: string, schedules: readonly ScheduleSpec[], now: number): Promise<ScheduleState[]> {
    const entries = this.#entries(pipeline);
    const names = new Set(schedules.map((s) => s.name));
    for (const [name, entry] of entries) if (!names.has(name)) entry.spec = undefined;
    for (const spec of schedules) {
      const entry = entries.get(spec.name) ?? { since: now };
      entry.spec = { name: spec.name, cron: spec.cron, timezone: spec.timezone };
      entries.set(spec.name, entry);
    }
    return schedules.map((s) => stateOf(pipeline, entries.get(s.name)!)!);
  }

  async recordTick(pipeline: string, name: string, tick: number, jobId: string): Promise<boolean> {
    const entries = this.#entries(pipeline);
    const entry = entries.get(name) ?? { since: tick };
    if (entry.lastTick !== undefined && entry.lastTick >= tick) return false;
    entry.lastTick = tick;
    entry.lastJobId = jobId;
    entries.set(name, entry);
    return true;
  }

  async list(pipelines: readonly string[]): Promise<ScheduleState[]> {
    return pipelines.flatMap((pipeline) =>
      [...(this.#byPipeline.get(pipeline)?.values() ?? [])].flatMap((e) => stateOf(pipeline, e) ?? []).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    );
  }

  #entries(pipeline: string): Map<string, Entry> {
    let entries = this.#byPipeline.get(pipeline);
    if (entries === undefined) {
      entries = new Map();
      this.#byPipeline.set(pipeline, entries);
    }
    return entries;
  }
}

function stateOf(pipeline: string, entry: Entry): ScheduleState | undefined {
  if (entry.spec === undefined) return undefined;
  return { ...entry.spec, pipeline, since: entry.since, lastTick: entry.lastTick, lastJobId: entry.lastJobId };
}
