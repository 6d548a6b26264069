/**
 * The native shape: `export default async function (instructions, ctx) { return output }`.
 */
import type { StepHandler } from "../../engine/delivery.ts";
import type { HandlerShape } from "../handler-shape.ts";

export const executeShape: HandlerShape = {
  shape: "execute",
  fromModule: (mod) => {
    const candidate = mod.default;
    if (typeof candidate !== "function") return undefined;
    if (/^class[\s{]/.test(Function.prototype.toString.call(candidate))) return undefined;
    return candidate as StepHandler;
  },
};
