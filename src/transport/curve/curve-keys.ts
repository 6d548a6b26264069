/**
 * CurveZMQ key files, as `mario keygen` writes them: a secret key file (`<name>.key`, mode 0600,
 * holding the public and the secret key) and a public key file (`<name>.pub`). Keys are Z85 text,
 * 40 characters. An allow list is a file of public keys (one per line, bare or `public-key = "…"`)
 * or a folder of `.pub` files.
 *
 * ```ts
 * const { publicKey, secretKey } = await writeKeyPair("keys", "server");  // keys/server.key, keys/server.pub
 * const keys = readSecretKeyFile("keys/server.key");
 * const serverKey = readPublicKey("keys/server.pub");      // or the 40-character key itself
 * const allowed = readAllowList("keys");                    // every keys/*.pub
 * ```
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as zmq from "zeromq";
import { InvalidConfigError } from "../../core/errors/invalid-config-error.ts";
import { isZ85Key } from "./z85.ts";

export interface CurveKeyPair {
  /** Z85, 40 characters: give it to peers. */
  publicKey: string;
  /** Z85, 40 characters: never leaves this host. */
  secretKey: string;
}

const LINE = /^\s*(public|secret)-key\s*=\s*"?([^"\s]+)"?\s*$/;

/** The keys a key file's text holds, by kind; bare 40-character lines are public keys. */
function keysIn(text: string, source: string): { public: string[]; secret: string[] } {
  const found = { public: [] as string[], secret: [] as string[] };
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const match = LINE.exec(line);
    const kind = match === null ? "public" : (match[1] as "public" | "secret");
    const key = match === null ? line : match[2]!;
    if (!isZ85Key(key)) throw new InvalidConfigError(`${source} line ${i + 1}: not a CurveZMQ key (40 Z85 characters, as mario keygen writes)`);
    found[kind].push(key);
  });
  return found;
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new InvalidConfigError(`cannot read ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
  }
}

/** Reads a secret key file (`--curve-secret-key-file`): its public and secret key. */
export function readSecretKeyFile(path: string): CurveKeyPair {
  const keys = keysIn(readText(path, "secret key file"), path);
  const secretKey = keys.secret[0];
  const publicKey = keys.public[0];
  if (secretKey === undefined || publicKey === undefined) {
    throw new InvalidConfigError(`${path} is not a secret key file: it needs a public-key and a secret-key line (write one with mario keygen)`);
  }
  return { publicKey, secretKey };
}

/** A public key given as its 40 Z85 characters or as the path of a file holding it (`--curve-server-key`). */
export function readPublicKey(value: string): string {
  const text = value.trim();
  if (isZ85Key(text)) return text;
  if (!existsSync(text)) throw new InvalidConfigError(`"${value}" is neither a CurveZMQ public key (40 Z85 characters) nor a file holding one`);
  const key = keysIn(readText(text, "public key file"), text).public[0];
  if (key === undefined) throw new InvalidConfigError(`${text} holds no public key`);
  return key;
}

/** The public keys of a file, or of every `.pub` file of a folder (`--curve-allow`). */
export function readAllowList(path: string): string[] {
  let isFolder: boolean;
  try {
    isFolder = statSync(path).isDirectory();
  } catch (error) {
    throw new InvalidConfigError(`cannot read allow list ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
  }
  if (!isFolder) return keysIn(readText(path, "allow list"), path).public;
  const keys: string[] = [];
  for (const name of readdirSync(path).sort()) {
    if (name.endsWith(".pub")) keys.push(...keysIn(readText(join(path, name), "public key file"), join(path, name)).public);
  }
  return keys;
}

export interface WrittenKeyPair extends CurveKeyPair {
  secretFile: string;
  publicFile: string;
}

/** Writes a new keypair as `<dir>/<name>.key` (mode 0600) and `<dir>/<name>.pub`; refuses to overwrite unless `force`. */
export function writeKeyPair(dir: string, name: string, options: { force?: boolean } = {}): WrittenKeyPair {
  const secretFile = join(dir, `${name}.key`);
  const publicFile = join(dir, `${name}.pub`);
  if (options.force !== true) {
    for (const file of [secretFile, publicFile]) {
      if (existsSync(file)) throw new InvalidConfigError(`${file} exists: choose another name, or --force to replace it`);
    }
  }
  const { publicKey, secretKey } = zmq.curveKeyPair();
  const stamp = new Date().toISOString();
  writeFileSync(
    secretFile,
    `# Mario CurveZMQ secret key, written by mario keygen ${stamp}.\n# Keep it private: whoever holds it can act as this server or worker.\npublic-key = "${publicKey}"\nsecret-key = "${secretKey}"\n`,
    { mode: 0o600 },
  );
  writeFileSync(publicFile, `# Mario CurveZMQ public key, written by mario keygen ${stamp}.\n# Give it to peers: --curve-server-key, --curve-allow.\npublic-key = "${publicKey}"\n`, { mode: 0o644 });
  return { publicKey, secretKey, secretFile, publicFile };
}
