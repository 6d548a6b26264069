/**
 * Whether a step's output can travel as JSON: it crosses sockets, threads and the HTTP gateway as
 * JSON, so a BigInt, a cycle or a throwing `toJSON` must fail the attempt where it is made, with
 * a clear error, not later in an encoder far from the step.
 */

/** Why `output` cannot be encoded as JSON, or `undefined` when it can. */
export function unencodableReason(output: unknown): string | undefined {
  try {
    JSON.stringify(output);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}
