/**
 * Cron schedules: a name, a cron expression (croner parses it), an optional IANA time zone, the
 * pipeline each tick enqueues into and the instructions it enqueues. Pure time arithmetic, no I/O.
 *
 * ```ts
 * const schedule = checkSchedule({ name: "nightly", cron: "0 3 * * *", timezone: "Europe/Paris", pipeline: "cleanup", instructions: {} });
 * nextTick(schedule, Date.now());      // epoch ms of the next tick after now
 * lastDueTick(schedule, Date.now());   // epoch ms of the most recent tick at or before now
 * scheduleKey("nightly", tick);        // "schedule:nightly:<tick>": the idempotency key of the tick's job
 * ```
 *
 * Syntax: 5 fields (`minute hour day-of-month month day-of-week`) or 6 with seconds first
 * (`second minute hour day-of-month month day-of-week`), or a nickname (`@hourly`, `@daily`,
 * `@weekly`, `@monthly`, `@yearly`). Day-of-month and day-of-week together match when either does
 * (as Vixie cron). Times are read in `timezone` (default UTC).
 */
import { Cron } from "croner";
import { InvalidConfigError } from "./errors/invalid-config-error.ts";
import type { Instructions } from "./job.ts";
import { isValidName } from "./names.ts";

export interface ScheduleDefinition {
  name: string;
  cron: string;
  /** IANA time zone the cron fields are read in. Default UTC. */
  timezone?: string | undefined;
  pipeline: string;
  instructions: Instructions;
}

/** How a schedule is told apart from the ticks of another: its name. */
export function scheduleKey(name: string, tick: number): string {
  return `schedule:${name}:${tick}`;
}

const parsed = new WeakMap<ScheduleDefinition, Cron>();

function cronOf(schedule: ScheduleDefinition): Cron {
  let cron = parsed.get(schedule);
  if (cron === undefined) {
    cron = new Cron(schedule.cron, { timezone: schedule.timezone ?? "UTC", mode: "5-or-6-parts", domAndDow: false, paused: true });
    parsed.set(schedule, cron);
  }
  return cron;
}

/** True when `zone` is an IANA time zone this runtime knows. */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The schedule, checked: a valid name, a cron expression croner reads, a known time zone. Throws one line naming it. */
export function checkSchedule(schedule: ScheduleDefinition): ScheduleDefinition {
  const where = `schedule "${schedule.name}"`;
  if (!isValidName(schedule.name)) throw new InvalidConfigError(`${where}: not a valid name (letters, digits, ".", "_", "-")`);
  if (schedule.timezone !== undefined && !isTimeZone(schedule.timezone)) {
    throw new InvalidConfigError(`${where}: unknown time zone "${schedule.timezone}" (an IANA name such as Europe/Paris, or UTC)`);
  }
  const fields = schedule.cron.trim().split(/\s+/);
  const nickname = fields.length === 1 && fields[0]!.startsWith("@");
  if (!nickname && fields.length !== 5 && fields.length !== 6) {
    throw new InvalidConfigError(`${where}: bad cron expression "${schedule.cron}": ${CRON_SYNTAX}, got ${fields.length} field(s)`);
  }
  try {
    if (cronOf(schedule).nextRun() === null) throw new Error("it never runs");
  } catch (error) {
    parsed.delete(schedule);
    throw new InvalidConfigError(`${where}: bad cron expression "${schedule.cron}": ${reasonOf(error)} (${CRON_SYNTAX})`, { cause: error });
  }
  return schedule;
}

export const CRON_SYNTAX = "5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first";

function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/^Cron\w*:\s*/, "").split("\n")[0] ?? message;
}

/** Epoch ms of the first tick strictly after `afterMs`, or undefined when there is none. */
export function nextTick(schedule: ScheduleDefinition, afterMs: number): number | undefined {
  return cronOf(schedule).nextRun(new Date(afterMs))?.getTime();
}

/** Epoch ms of the most recent tick at or before `atMs`, or undefined when there is none. */
export function lastDueTick(schedule: ScheduleDefinition, atMs: number): number | undefined {
  // previousRuns looks strictly before its reference; a tick exactly at `atMs` is due too.
  return cronOf(schedule).previousRuns(1, new Date(atMs + 1))[0]?.getTime();
}
