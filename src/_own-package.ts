/**
 * This package's own package.json: its name, version and `exports` map, found by walking up from
 * this module. The same code runs from the sources (src/_own-package.ts, in a checkout) and from
 * the build (dist/src/_own-package.js, in node_modules), one folder deeper.
 *
 * ```ts
 * ownPackage().json.version;          // "0.1.0"
 * ownModule("mario-pipelines/client"); // file:///…/dist/src/entries/client.js (src/…/client.ts in a checkout)
 * ```
 */
import { existsSync, readFileSync } from "node:fs";

export interface OwnPackageJson {
  name: string;
  version: string;
  exports: Record<string, string | Record<string, string>>;
}

/** The sources run (a checkout): subpaths resolve through the "mario-source" condition. */
export const RUNNING_SOURCES = import.meta.url.endsWith(".ts");
const CONDITION = RUNNING_SOURCES ? "mario-source" : "default";
/** The name the package had before it was published under its own (still accepted in function files). */
export const OLD_NAME = "mario";

let cached: { root: URL; json: OwnPackageJson } | undefined;

export function ownPackage(): { root: URL; json: OwnPackageJson } {
  if (cached !== undefined) return cached;
  for (let dir = new URL("./", import.meta.url); ; dir = new URL("../", dir)) {
    const file = new URL("package.json", dir);
    if (existsSync(file)) return (cached = { root: dir, json: JSON.parse(readFileSync(file, "utf8")) as OwnPackageJson });
    if (new URL("../", dir).href === dir.href) throw new Error(`no package.json above ${import.meta.url}`);
  }
}

/**
 * The file URL `specifier` (the package's name, or its old name, with an optional subpath) names
 * in this package, through its exports map. Undefined when the package exports no such subpath.
 */
export function ownModule(specifier: string): string | undefined {
  const { root, json } = ownPackage();
  const name = specifier === OLD_NAME || specifier.startsWith(`${OLD_NAME}/`) ? OLD_NAME : json.name;
  if (specifier !== name && !specifier.startsWith(`${name}/`)) return undefined;
  const subpath = `.${specifier.slice(name.length)}`;
  for (const [key, target] of Object.entries(json.exports)) {
    const star = key.indexOf("*");
    let match: string | undefined;
    if (star === -1) match = key === subpath ? "" : undefined;
    else if (subpath.startsWith(key.slice(0, star)) && subpath.endsWith(key.slice(star + 1)) && subpath.length > key.length - 1) {
      match = subpath.slice(star, subpath.length - (key.length - star - 1));
      if (match.includes("/") || match.includes("..")) match = undefined;
    }
    if (match === undefined) continue;
    const file = typeof target === "string" ? target : (target[CONDITION] ?? target.default);
    return file === undefined ? undefined : new URL(file.replace("*", match), root).href;
  }
  return undefined;
}
