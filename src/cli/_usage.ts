/**
 * What citty leaves to us: help that shows long aliases with two dashes (it prints `-job-pull`,
 * made for one-letter aliases), and flags no command knows, which citty ignores silently; a typo
 * such as `--sub-conect` must be an error, not a worker that announces nowhere.
 */
import type { ArgsDef, CommandDef } from "citty";

/** Long flag names a command accepts: its flags, their aliases, `--no-x` for booleans, and --help. */
export function knownFlags(args: ArgsDef): Set<string> {
  const known = new Set(["help"]);
  for (const [name, def] of Object.entries(args)) {
    if (def.type === "positional") continue;
    known.add(name);
    for (const alias of aliasesOf(def)) known.add(alias);
    if (def.type === "boolean") known.add(`no-${name}`);
  }
  return known;
}

/** The first `--flag` in `rawArgs` that `args` does not define (before a `--` terminator), if any. */
export function unknownFlag(rawArgs: readonly string[], args: ArgsDef): string | undefined {
  const known = knownFlags(args);
  for (const arg of rawArgs) {
    if (arg === "--") return undefined;
    if (!arg.startsWith("--")) continue;
    const name = arg.slice(2).split("=")[0]!;
    if (!known.has(name)) return `--${name}`;
  }
  return undefined;
}

/** Help text with every alias longer than one letter shown as `--alias`. */
export function fixAliases(usage: string, command: CommandDef): string {
  const args = (command.args ?? {}) as ArgsDef;
  let fixed = usage;
  for (const def of Object.values(args)) {
    for (const alias of aliasesOf(def)) {
      // After a space, a comma or a colour code; before a comma, a space, "=" or a colour code.
      if (alias.length > 1) fixed = fixed.replaceAll(new RegExp(`(^|[\\s,]|\u001b\\[[\\d;]*m)-${escape(alias)}(?=[,\\s=]|\u001b)`, "gm"), `$1--${alias}`);
    }
  }
  return fixed;
}

function aliasesOf(def: ArgsDef[string]): string[] {
  if (!("alias" in def) || def.alias === undefined) return [];
  return Array.isArray(def.alias) ? def.alias : [def.alias];
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
