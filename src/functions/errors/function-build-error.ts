import { InvalidConfigError } from "../../core/errors/invalid-config-error.ts";

/**
 * A function file esbuild could not bundle (syntax error, missing import). The message starts
 * with the file name and carries esbuild's own error text (file:line:column and a code frame).
 */
export class FunctionBuildError extends InvalidConfigError {
  override readonly name = "FunctionBuildError";
  readonly file: string;

  constructor(file: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.file = file;
  }
}
