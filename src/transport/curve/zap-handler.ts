/**
 * The process's ZAP handler (ZeroMQ RFC 27): libzmq asks it, for every CURVE handshake on a socket
 * that acts as CURVE server, whether the peer's public key may connect. Each such socket gets its
 * own ZAP domain, registered here with its allow list and a callback that counts refusals; a
 * request for a domain nobody registered is refused. libzmq lets every peer in when no handler is
 * bound, so `guardDomain` resolves only once the handler listens: register before binding or
 * connecting the socket, release after closing it.
 *
 * The handler outlives its last guarded socket by `ZAP_IDLE_MS`: libzmq ends a closed socket's
 * connections later, on its own threads, and a connection in its handshake holds a pipe to the
 * handler. Closing the handler while those pipes end too is the parallel termination libzmq gets
 * wrong at times (a process that never exits, or an assertion in pipe.cpp), so it stays up until
 * they are gone, and a socket guarded again meanwhile (a server restarted) reuses it.
 *
 * ```ts
 * const guard = await guardDomain("sub", { allowed: new Set([workerPublicKey]), refused: (peer) => count(peer) });
 * const sub = new zmq.Subscriber({ curveServer: true, curveSecretKey, zapDomain: guard.domain });
 * // … on close: sub.close(); guard.release();
 * ```
 */
import * as zmq from "zeromq";
import { SendQueue } from "../send-queue.ts";
import { z85Encode } from "./z85.ts";

/** The endpoint libzmq sends ZAP requests to (RFC 27). */
const ZAP_ENDPOINT = "inproc://zeromq.zap.01";
/** How long the handler stays up after its last guarded socket closed, ms (see above). */
const ZAP_IDLE_MS = 1000;

export interface RefusedPeer {
  /** The peer's public key (Z85), or "" when it did not use CURVE. */
  publicKey: string;
  /** The peer's IP address as libzmq saw it. */
  address: string;
  /** Why: its key is not in the allow list, or it spoke another mechanism. */
  reason: "key not allowed" | "not CURVE";
}

export interface DomainGuard {
  /** Keys (Z85) allowed to connect. */
  allowed: ReadonlySet<string>;
  /** Called for every refused handshake. */
  refused(peer: RefusedPeer): void;
}

export interface GuardRegistration {
  /** The ZAP domain to set on the socket (`zapDomain`). */
  readonly domain: string;
  /** Forgets the domain (call after closing the socket); the handler stops with the last one. */
  release(): void;
}

class ZapHandler {
  readonly #domains = new Map<string, DomainGuard>();
  #router: zmq.Router | undefined;
  #queue: SendQueue | undefined;
  #ready: Promise<void> | undefined;
  /** The last handler's stop: its endpoint is unbound before a new one binds it (else EADDRINUSE). */
  #stopping: Promise<void> = Promise.resolve();
  /** Set while the handler has no domain left and waits ZAP_IDLE_MS before it stops. */
  #idle: NodeJS.Timeout | undefined;
  #next = 0;

  async guard(name: string, guard: DomainGuard): Promise<GuardRegistration> {
    const domain = `mario-${name}-${++this.#next}`;
    this.#domains.set(domain, guard);
    clearTimeout(this.#idle);
    this.#idle = undefined;
    try {
      this.#ready ??= this.#start();
      await this.#ready;
    } catch (error) {
      this.#release(domain);
      throw error;
    }
    let released = false;
    return {
      domain,
      release: () => {
        if (released) return;
        released = true;
        this.#release(domain);
      },
    };
  }

  async #start(): Promise<void> {
    await this.#stopping;
    const router = new zmq.Router({ linger: 0 });
    await router.bind(ZAP_ENDPOINT);
    this.#router = router;
    if (this.#domains.size === 0) {
      // Every guard was released while binding.
      this.#release("");
      return;
    }
    this.#queue = new SendQueue(router);
    void this.#serve(router, this.#queue);
  }

  async #serve(router: zmq.Router, queue: SendQueue): Promise<void> {
    try {
      for await (const request of router) {
        queue.send(this.#answer(request)).catch(() => {});
      }
    } catch {
      // closed
    }
  }

  /** The reply to one request: [routing id, "", version, request id, status, text, user id, metadata]. */
  #answer(request: Buffer[]): Buffer[] {
    const [routingId, delimiter, version, requestId, domainFrame, addressFrame, , mechanismFrame, ...credentials] = request;
    const reply = (status: string, text: string): Buffer[] => [
      routingId ?? Buffer.alloc(0), delimiter ?? Buffer.alloc(0), Buffer.from("1.0"), requestId ?? Buffer.alloc(0),
      Buffer.from(status), Buffer.from(text), Buffer.alloc(0), Buffer.alloc(0),
    ];
    if (version?.toString() !== "1.0") return reply("400", "unsupported ZAP version");
    const guard = this.#domains.get(domainFrame?.toString() ?? "");
    if (guard === undefined) return reply("400", "unknown domain");
    const address = addressFrame?.toString() ?? "";
    const key = credentials[0];
    if (mechanismFrame?.toString() !== "CURVE" || key === undefined || key.length !== 32) {
      guard.refused({ publicKey: "", address, reason: "not CURVE" });
      return reply("400", "CURVE required");
    }
    const publicKey = z85Encode(key);
    if (!guard.allowed.has(publicKey)) {
      guard.refused({ publicKey, address, reason: "key not allowed" });
      return reply("400", "key not allowed");
    }
    return reply("200", "OK");
  }

  #release(domain: string): void {
    this.#domains.delete(domain);
    if (this.#domains.size > 0 || this.#router === undefined || this.#idle !== undefined) return;
    // The last guarded socket is closed: stop once its connections are gone, so that the process can exit.
    this.#idle = setTimeout(() => this.#stop(), ZAP_IDLE_MS);
  }

  /** True while the handler is bound (serving, or idle before it stops). */
  get listening(): boolean {
    return this.#router !== undefined;
  }

  #stop(): void {
    this.#idle = undefined;
    if (this.#domains.size > 0 || this.#router === undefined) return;
    this.#queue?.close();
    this.#stopping = stopRouter(this.#router);
    this.#router = undefined;
    this.#queue = undefined;
    this.#ready = undefined;
  }
}

/**
 * libzmq frees a closed socket's inproc endpoint later, on its reaper thread: unbinding first
 * frees it now, so that a handler started next (a server started again in this process) can bind.
 */
async function stopRouter(router: zmq.Router): Promise<void> {
  try {
    await router.unbind(ZAP_ENDPOINT);
  } catch {
    // closing anyway
  }
  router.close();
}

const handler = new ZapHandler();

/** Registers a ZAP domain for one CURVE-server socket; resolves once the handler listens. */
export function guardDomain(name: string, guard: DomainGuard): Promise<GuardRegistration> {
  return handler.guard(name, guard);
}

/** True while the process's ZAP handler is bound: guarding a socket, or idle for ZAP_IDLE_MS after the last (for tests). */
export function zapHandlerListening(): boolean {
  return handler.listening;
}
