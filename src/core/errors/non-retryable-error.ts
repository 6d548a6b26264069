import { MarioError } from "./mario-error.ts";

/**
 * Thrown by a step when trying again cannot help (bad input, a record that does not exist): the
 * job goes dead at once, whatever retries its step allows. Any error carrying `retryable = false`
 * is treated the same, so a handler without a dependency on mario can mark its own errors.
 *
 * ```ts
 * import { NonRetryableError } from "mario-pipelines";
 * export default async function ({ email }) {
 *   if (typeof email !== "string") throw new NonRetryableError("email is required");
 * }
 * ```
 */
export class NonRetryableError extends MarioError {
  override readonly name: string = "NonRetryableError";

  constructor(message: string, options?: { cause?: unknown }) {
    super("NON_RETRYABLE", message, { ...options, retryable: false });
  }
}
