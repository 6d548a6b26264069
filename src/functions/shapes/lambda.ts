/**
 * The AWS Lambda shape: `export const handler = async (event, context) => result`. `event` is the
 * instructions; the return value is the output. Callback-style handlers `(event, context,
 * callback)` work too.
 */
import type { StepContext } from "../../engine/delivery.ts";
import type { HandlerShape } from "../handler-shape.ts";

type LambdaHandler = (event: unknown, context: LambdaContext, callback?: (error: unknown, result?: unknown) => void) => unknown;

export interface LambdaContext {
  awsRequestId: string;
  functionName: string;
  functionVersion: string;
  invokedFunctionArn: string;
  memoryLimitInMB: string;
  logGroupName: string;
  logStreamName: string;
  callbackWaitsForEmptyEventLoop: boolean;
  getRemainingTimeInMillis(): number;
}

export const lambdaShape: HandlerShape = {
  shape: "lambda",
  fromModule: (mod) => {
    const exported = (mod.handler ?? (mod.default as { handler?: unknown } | undefined)?.handler);
    if (typeof exported !== "function") return undefined;
    const handler = exported as LambdaHandler;
    return (instructions, ctx: StepContext) => {
      const deadline = ctx.deadline;
      const context: LambdaContext = {
        awsRequestId: ctx.jobId,
        functionName: ctx.jobType,
        functionVersion: "$LATEST",
        invokedFunctionArn: `arn:mario:${ctx.pipeline}:${ctx.jobType}`,
        memoryLimitInMB: "0",
        logGroupName: `mario/${ctx.pipeline}`,
        logStreamName: ctx.jobId,
        callbackWaitsForEmptyEventLoop: false,
        getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      };
      if (handler.length >= 3) {
        return new Promise((resolve, reject) => {
          handler(instructions, context, (error, result) => (error ? reject(error) : resolve(result)));
        });
      }
      return handler(instructions, context);
    };
  },
};
