/**
 * `mario/adapters/execute`: the execute handler shape, kept as a public subpath. It lives with the
 * rest of what makes a function file a step, in src/functions/shapes/execute.ts.
 */
import { executeShape } from "../src/functions/shapes/execute.ts";

export { executeShape };
export const shape = executeShape.shape;
export const fromModule = executeShape.fromModule;
