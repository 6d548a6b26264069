import { MarioError } from "./mario-error.ts";

/** A pipeline name that is not declared. The message lists the ones that are. */
export class UnknownPipelineError extends MarioError {
  override readonly name = "UnknownPipelineError";
  readonly known: readonly string[];

  constructor(pipeline: string, known: readonly string[], options?: { message?: string }) {
    super("UNKNOWN_PIPELINE", options?.message ?? `unknown pipeline "${pipeline}"; known pipelines: ${listOrNone(known)}`);
    this.known = known;
  }
}

export function listOrNone(names: readonly string[]): string {
  return names.length === 0 ? "(none)" : [...names].sort().join(", ");
}
