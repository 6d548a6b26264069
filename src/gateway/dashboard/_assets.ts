/**
 * The page's files, read once from `assets/` next to this module: no build step, no CDN.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";

export interface Asset {
  body: string;
  contentType: string;
  etag: string;
}

const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  svg: "image/svg+xml",
};

const folder = new URL("./assets/", import.meta.url);

/** Every servable file of `assets/` by name. */
export function loadAssets(): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(folder)) {
    const extension = name.slice(name.lastIndexOf(".") + 1);
    const contentType = TYPES[extension];
    if (contentType === undefined) continue;
    const body = readFileSync(new URL(name, folder), "utf8");
    assets.set(name, { body, contentType, etag: etagOf(body) });
  }
  return assets;
}

export function etagOf(body: string): string {
  return `"${createHash("sha1").update(body).digest("base64url").slice(0, 16)}"`;
}
