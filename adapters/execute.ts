/**
 * The native shape: `export default async function (instructions, ctx) { return output }`.
 */
import type { StepHandler } from "../src/engine/delivery.ts";

export const shape = "execute";

export function fromModule(mod: Record<string, unknown>): StepHandler | undefined {
  const candidate = mod.default;
  if (typeof candidate !== "function") return undefined;
  if (/^class[\s{]/.test(Function.prototype.toString.call(candidate))) return undefined;
  return candidate as StepHandler;
}
