import { MarioError } from "./mario-error.ts";
import { listOrNone } from "./unknown-pipeline-error.ts";

/** A job type that no step provides. The message lists the ones that exist. */
export class UnknownJobTypeError extends MarioError {
  override readonly name = "UnknownJobTypeError";
  readonly known: readonly string[];

  constructor(jobType: string, known: readonly string[], where?: string, options?: { message?: string }) {
    const prefix = where === undefined ? "" : `${where}: `;
    super("UNKNOWN_JOB_TYPE", options?.message ?? `${prefix}unknown job type "${jobType}"; known job types: ${listOrNone(known)}`);
    this.known = known;
  }
}
