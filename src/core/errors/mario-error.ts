/**
 * The base of every error Mario raises on purpose. Callers branch on `code` or `instanceof`,
 * never on the message text.
 */
export class MarioError extends Error {
  override readonly name: string = "MarioError";
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
