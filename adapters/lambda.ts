/**
 * `mario/adapters/lambda`: the lambda handler shape, kept as a public subpath. It lives with the
 * rest of what makes a function file a step, in src/functions/shapes/lambda.ts.
 */
import { lambdaShape } from "../src/functions/shapes/lambda.ts";

export { lambdaShape };
export type { LambdaContext } from "../src/functions/shapes/lambda.ts";
export const shape = lambdaShape.shape;
export const fromModule = lambdaShape.fromModule;
