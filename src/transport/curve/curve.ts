/**
 * CurveZMQ for one process: its keypair, the public key of the server(s) it connects to, and the
 * public keys allowed to connect to it. Every socket gets its options from here: a CURVE *server*
 * (own secret key, a ZAP domain that admits only allowed keys and counts the others) or a CURVE
 * *client* (own keypair + the server's public key). Pipeline servers and devices are CURVE servers
 * on every socket they own (a worker's job socket excepted: the worker is the server there);
 * workers and clients are CURVE clients of them.
 *
 * ```ts
 * const curve = new Curve({ keys: readSecretKeyFile("server.key"), allow: readAllowList("keys/") });
 * const guard = await curve.serverSocket("sub", (peer) => refusals.record("CURVE_KEY_REFUSED", peer));
 * const sub = new zmq.Subscriber({ ...guard.options });   // … sub.close(); guard.release();
 * const push = new zmq.Push({ ...curve.clientOptions() });
 * ```
 */
import type { CurveKeyPair } from "./curve-keys.ts";
import { guardDomain, type GuardRegistration, type RefusedPeer } from "./zap-handler.ts";
import { isZ85Key } from "./z85.ts";
import { InvalidConfigError } from "../../core/errors/invalid-config-error.ts";

export interface CurveSettings {
  /** This process's keypair (`--curve-secret-key-file`). */
  keys: CurveKeyPair;
  /** Public key of the CURVE server this process connects to (`--curve-server-key`). Default: its own. */
  serverKey?: string | undefined;
  /**
   * Public keys allowed to connect (`--curve-allow`). This process's own key and `serverKey` are
   * always allowed, so a cluster sharing one keypair needs no list.
   */
  allow?: readonly string[] | undefined;
}

export interface CurveServerOptions {
  curveServer: true;
  curvePublicKey: string;
  curveSecretKey: string;
  zapDomain: string;
}

export interface CurveClientOptions {
  curvePublicKey: string;
  curveSecretKey: string;
  curveServerKey: string;
}

export interface GuardedSocket {
  options: CurveServerOptions;
  /** Call after closing the socket. */
  release(): void;
}

export class Curve {
  readonly publicKey: string;
  readonly serverKey: string;
  readonly allowed: ReadonlySet<string>;
  readonly #secretKey: string;

  constructor(settings: CurveSettings) {
    for (const [what, key] of [["public key", settings.keys.publicKey], ["secret key", settings.keys.secretKey], ["server key", settings.serverKey]] as const) {
      if (key !== undefined && !isZ85Key(key)) throw new InvalidConfigError(`CurveZMQ ${what} is not 40 Z85 characters`);
    }
    this.publicKey = settings.keys.publicKey;
    this.#secretKey = settings.keys.secretKey;
    this.serverKey = settings.serverKey ?? settings.keys.publicKey;
    this.allowed = new Set([this.publicKey, this.serverKey, ...(settings.allow ?? [])]);
  }

  /** Options of a socket acting as CURVE client of `serverKey` (default: the configured server key). */
  clientOptions(serverKey: string = this.serverKey): CurveClientOptions {
    return { curvePublicKey: this.publicKey, curveSecretKey: this.#secretKey, curveServerKey: serverKey };
  }

  /** Options of a socket acting as CURVE server, admitting allowed keys only; `refused` hears of every other peer. */
  async serverSocket(name: string, refused: (peer: RefusedPeer) => void): Promise<GuardedSocket> {
    const guard: GuardRegistration = await guardDomain(name, { allowed: this.allowed, refused });
    return {
      options: { curveServer: true, curvePublicKey: this.publicKey, curveSecretKey: this.#secretKey, zapDomain: guard.domain },
      release: () => guard.release(),
    };
  }
}
