import { MarioError } from "../../core/errors/mario-error.ts";

/**
 * The thread running a handler died mid-attempt: the handler called `process.exit()`, threw
 * asynchronously (an unhandled rejection, a throw inside a timer) or ran out of memory. The
 * attempt fails (and is retried per policy); the host replaces the thread and keeps serving.
 */
export class HandlerCrashedError extends MarioError {
  override readonly name = "HandlerCrashedError";

  constructor(message: string, options?: { cause?: unknown }) {
    super("HANDLER_CRASHED", message, options);
  }
}
