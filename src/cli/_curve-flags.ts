/**
 * CurveZMQ flags shared by the commands that speak ZeroMQ, each with an environment variable:
 *
 * | flag | variable | what |
 * |---|---|---|
 * | `--curve-secret-key-file=<file>` | `MARIO_CURVE_SECRET_KEY_FILE` | this process's keypair (mario keygen); turns CurveZMQ on |
 * | `--curve-server-key=<key or file>` | `MARIO_CURVE_SERVER_KEY` | public key of the server this connects to (default: its own) |
 * | `--curve-allow=<file or folder>` | `MARIO_CURVE_ALLOW` | public keys allowed to connect (its own and the server key always are) |
 *
 * A flag wins over its variable; an empty variable counts as unset.
 */
import { UsageError } from "../core/errors/usage-error.ts";
import { Curve } from "../transport/curve/curve.ts";
import { readAllowList, readPublicKey, readSecretKeyFile } from "../transport/curve/curve-keys.ts";

const secretKeyFile = {
  type: "string",
  description: "this process's CurveZMQ keypair, written by mario keygen; turns encryption and key checks on (default MARIO_CURVE_SECRET_KEY_FILE)",
} as const;
const serverKey = {
  type: "string",
  description: "public key of the server this connects to, or a .pub file holding it (default MARIO_CURVE_SERVER_KEY, else this process's own key)",
} as const;
const allow = {
  type: "string",
  description: "file of public keys, or folder of .pub files, allowed to connect; own and server key always are (default MARIO_CURVE_ALLOW)",
} as const;

/** For servers and workers: their keypair, the server key they connect to, the keys they admit. */
export const curveFlags = { "curve-secret-key-file": secretKeyFile, "curve-server-key": serverKey, "curve-allow": allow } as const;
/** For clients (enqueue, gateway): their keypair and the server's key. */
export const curveClientFlags = { "curve-secret-key-file": secretKeyFile, "curve-server-key": serverKey } as const;
/** For devices (forwarder, streamer): their keypair and the keys they admit. */
export const curveDeviceFlags = { "curve-secret-key-file": secretKeyFile, "curve-allow": allow } as const;

interface CurveArgs {
  "curve-secret-key-file"?: string | undefined;
  "curve-server-key"?: string | undefined;
  "curve-allow"?: string | undefined;
}

function pick(flag: string | undefined, variable: string): string | undefined {
  if (flag !== undefined) return flag;
  const value = process.env[variable];
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

/** The Curve settings the flags and variables give, undefined when CurveZMQ is off; a USAGE error naming the flag otherwise. */
export function curveFrom(args: CurveArgs): Curve | undefined {
  const file = pick(args["curve-secret-key-file"], "MARIO_CURVE_SECRET_KEY_FILE");
  const server = pick(args["curve-server-key"], "MARIO_CURVE_SERVER_KEY");
  const allowed = pick(args["curve-allow"], "MARIO_CURVE_ALLOW");
  if (file === undefined) {
    const given = server !== undefined ? "--curve-server-key" : allowed !== undefined ? "--curve-allow" : undefined;
    if (given !== undefined) throw new UsageError(`${given} needs --curve-secret-key-file (this process's own keypair; write one with mario keygen)`);
    return undefined;
  }
  try {
    return new Curve({
      keys: readSecretKeyFile(file),
      serverKey: server === undefined ? undefined : readPublicKey(server),
      allow: allowed === undefined ? undefined : readAllowList(allowed),
    });
  } catch (error) {
    throw new UsageError((error as Error).message, { cause: error });
  }
}
