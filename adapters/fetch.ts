/**
 * `mario/adapters/fetch`: the fetch handler shape, kept as a public subpath. It lives with the
 * rest of what makes a function file a step, in src/functions/shapes/fetch.ts.
 */
import { fetchShape } from "../src/functions/shapes/fetch.ts";

export { fetchShape };
export { FetchStepError } from "../src/functions/shapes/fetch-step-error.ts";
export const shape = fetchShape.shape;
export const fromModule = fetchShape.fromModule;
