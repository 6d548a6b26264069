/**
 * The one type every handler shape implements: how a function file's module is recognised and
 * turned into a step handler. Three shapes exist (`./shapes/`): execute (native), fetch (Web
 * standard) and lambda (AWS-style); `stepFromModule` tries them in `HANDLER_SHAPES` order. The
 * public subpath `mario/adapters/<shape>` re-exports each one.
 *
 * ```ts
 * const handler = lambdaShape.fromModule({ handler: async (event) => ({ ok: true }) }); // a StepHandler
 * ```
 */
import type { StepHandler } from "../engine/delivery.ts";

export interface HandlerShape {
  /** Its name, as listings show it: "execute", "fetch", "lambda". */
  readonly shape: string;
  /** The module's handler as a step handler, or undefined when the module is not of this shape. */
  readonly fromModule: (mod: Record<string, unknown>) => StepHandler | undefined;
}
