import { MarioError } from "./mario-error.ts";
import { isErrorCode } from "./error-codes.ts";

/**
 * An error a pipeline server answered with whose code has no class of its own. Codes with a
 * class come back as that class (`errorFromCode`): a BusyError, a JobNotFoundError… `remoteCode`
 * is the code as the server sent it (a code this version does not know is INTERNAL here).
 */
export class RemoteError extends MarioError {
  override readonly name = "RemoteError";
  readonly remoteCode: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(isErrorCode(code) ? code : "INTERNAL", message, options);
    this.remoteCode = code;
  }
}
