export interface Need {
  command: string;
  packages: string[];
  folders: string[];
  why: string;
}
export type SetupPlan = { action: "none" } | { action: "install"; message: string; commands: string[][] } | { action: "refuse"; message: string };
export const NEEDS: Need[];
export function needsOf(files: readonly string[], needs?: readonly Need[]): Need[];
export function planSetup(input: { missing: readonly Need[]; root: boolean; aptGet: boolean }): SetupPlan;
