/**
 * Applies a process's Curve settings to one socket, before it binds or connects: as CURVE server
 * (`guardSocket`: admits allowed keys only, every other peer counted, including peers that do not
 * speak CURVE at all) or as CURVE client (`secureClient`). Without Curve both do nothing.
 *
 * ```ts
 * const release = await guardSocket(sub, curve, "sub", refusals);   // after sub.close(): release()
 * secureClient(push, curve);                                          // client of curve.serverKey
 * ```
 */
import type * as zmq from "zeromq";
import type { Refusals } from "../refusals.ts";
import type { Curve } from "./curve.ts";

/** Makes `socket` a CURVE server admitting `curve.allowed` only; refusals counted as CURVE_KEY_REFUSED. Returns the release to call after closing it. */
export async function guardSocket(socket: zmq.Socket, curve: Curve | undefined, name: string, refusals: Refusals): Promise<() => void> {
  if (curve === undefined) return () => {};
  const guarded = await curve.serverSocket(name, (peer) => refusals.record("CURVE_KEY_REFUSED", { socket: name, ...peer }));
  Object.assign(socket, guarded.options);
  // A peer speaking NULL (no keys) fails before ZAP is asked: count it from the socket's events.
  // The observer is held by the release below: unreferenced, it would be collected and go quiet.
  // It ends with the socket (closing it first would reject its read loop, unhandled).
  const events = socket.events;
  const onMismatch = (event: { address: string }): void => {
    refusals.record("CURVE_KEY_REFUSED", { socket: name, publicKey: "", address: event.address, reason: "not CURVE" });
  };
  events.on("handshake:error:protocol", onMismatch);
  return () => {
    if (!socket.closed) events.off("handshake:error:protocol", onMismatch);
    guarded.release();
  };
}

/** Makes `socket` a CURVE client of `serverKey` (default the configured server key). */
export function secureClient(socket: zmq.Socket, curve: Curve | undefined, serverKey?: string): void {
  if (curve !== undefined) Object.assign(socket, curve.clientOptions(serverKey));
}
