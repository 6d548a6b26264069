/**
 * Small helpers shared by the transport's sockets: size limits, addresses, read loops, closing.
 */
import type * as zmq from "zeromq";
import { isWildcardHost, parseAddress, formatAddress } from "../core/address.ts";
import { InvalidConfigError } from "../core/errors/invalid-config-error.ts";
import type { Logger } from "../log/logger.ts";

/**
 * Room for routing ids and frame headers on top of the message limit. libzmq applies its
 * `maxMessageSize` per frame and cuts the connection of a peer that goes over it (nothing reaches
 * us, nothing can be counted); messages between the limit and this hard cap reach `decode()`,
 * which counts and drops them.
 */
export const FRAME_HEADROOM_BYTES = 64 * 1024;

/** libzmq's per-frame limit for a socket whose messages may be `maxMessageBytes` long. */
export function hardFrameLimit(maxMessageBytes: number): number {
  return maxMessageBytes + FRAME_HEADROOM_BYTES;
}

/**
 * Keepalive on every link, set on every socket Mario opens (options of zeromq.js v6):
 * - ZMTP heartbeats, answered by libzmq's I/O thread (not by the event loop, so a busy handler
 *   does not stop them): a PING every `heartbeatInterval` (500 ms); a connection with no traffic
 *   `heartbeatTimeout` (2000 ms) after a PING is closed and dialled again. The peer is told to do
 *   the same (`heartbeatTimeToLive`, 2000 ms). A stopped or cut peer is noticed within ~2.5 s.
 * - Dials that give up after `connectTimeout` (1000 ms) and are made again every 100 ms (libzmq's
 *   reconnect interval): a link healed after a blackhole is noticed within about 1 s instead of
 *   waiting out the kernel's SYN backoff. A connection stuck in its handshake (a stopped peer
 *   accepts TCP) is cut after `handshakeInterval` (5000 ms).
 * - TCP keepalive: first probe after 10 s idle, then every 5 s, dead after 3 unanswered.
 * - `linger` 0 until `closeSocket` sets the socket's own: libzmq's default (-1) would make the
 *   process wait forever at exit for a message to a peer that is gone, on a socket never closed.
 */
export const LINK_OPTIONS = {
  linger: 0,
  heartbeatInterval: 500,
  heartbeatTimeout: 2000,
  heartbeatTimeToLive: 2000,
  connectTimeout: 1000,
  handshakeInterval: 5000,
  tcpKeepalive: 1,
  tcpKeepaliveIdle: 10,
  tcpKeepaliveInterval: 5,
  tcpKeepaliveCount: 3,
} as const;

export function toList(value: string | readonly string[] | undefined): string[] {
  return value === undefined ? [] : [value].flat();
}

/** The host to announce when bound to a wildcard: `advertiseHost`, MARIO_ADVERTISE_HOST or 127.0.0.1. */
export function advertiseHostOf(option?: string): string {
  const env = process.env.MARIO_ADVERTISE_HOST;
  return option ?? (env !== undefined && env !== "" ? env : "127.0.0.1");
}

/** Turns a socket's `lastEndpoint` (e.g. `tcp://0.0.0.0:41234`) into an address others can connect to. */
export function connectableAddress(lastEndpoint: string, advertiseHost?: string): string {
  const endpoint = parseAddress(lastEndpoint);
  if (endpoint.transport !== "tcp") return lastEndpoint;
  if (advertiseHost !== undefined) return formatAddress({ ...endpoint, host: advertiseHost });
  if (isWildcardHost(endpoint.host)) return formatAddress({ ...endpoint, host: advertiseHostOf() });
  return lastEndpoint;
}

/** True for an address only this machine can reach: 127.x, ::1, localhost, ipc://, inproc://. */
export function isLoopbackAddress(address: string): boolean {
  const endpoint = parseAddress(address);
  return endpoint.transport !== "tcp" || isLoopbackHost(endpoint.host);
}

/** True for a host only this machine can reach: localhost, ::1, 127.x. */
export function isLoopbackHost(host: string): boolean {
  const lower = host.toLowerCase();
  return lower === "localhost" || lower === "::1" || /^127\.\d+\.\d+\.\d+$/.test(lower);
}

/**
 * One line when a socket binds where other machines can reach it while CurveZMQ is off: it names
 * what is exposed and the flag that secures it.
 */
export function warnIfExposed(bound: string, secured: boolean, what: string, logger: Logger): void {
  if (secured || isLoopbackAddress(bound)) return;
  logger.warn(`${what} on ${bound} is reachable from other machines without CurveZMQ: anyone who can connect can use it; secure it with --curve-secret-key-file (keys from mario keygen)`);
}

/** Binds and returns the real endpoint (port 0 resolved). */
export async function bindAndRead(socket: zmq.Socket, address: string): Promise<string> {
  parseAddress(address);
  try {
    await socket.bind(address);
  } catch (error) {
    throw new InvalidConfigError(`cannot bind ${address}: ${(error as Error).message}`, { cause: error });
  }
  return socket.lastEndpoint ?? address;
}

/**
 * Connects to every address, each checked first: a malformed one is an InvalidConfigError naming
 * it (libzmq would only say "Invalid argument").
 */
export function connectAll(socket: zmq.Socket, addresses: readonly string[]): void {
  for (const address of addresses) {
    parseAddress(address);
    try {
      socket.connect(address);
    } catch (error) {
      throw new InvalidConfigError(`cannot connect to ${address}: ${(error as Error).message}`, { cause: error });
    }
  }
}

/**
 * Reads messages until the socket closes. A handler that throws is logged, never fatal; the loop
 * only ends when the socket is closed.
 */
export async function readLoop(
  socket: zmq.Socket & AsyncIterable<Buffer[]>,
  name: string,
  logger: Logger,
  handle: (frames: Buffer[]) => void,
): Promise<void> {
  try {
    for await (const frames of socket) {
      try {
        handle(frames);
      } catch (error) {
        logger.error("message handler failed", { socket: name, error: String(error) });
      }
    }
  } catch (error) {
    if (!socket.closed) logger.error("socket read failed", { socket: name, error: String(error) });
  }
}

/** Closes a socket, letting unsent messages go for at most `lingerMs`. Safe to call twice. */
export function closeSocket(socket: zmq.Socket, lingerMs: number): void {
  if (socket.closed) return;
  try {
    socket.linger = lingerMs;
    socket.close();
  } catch {
    // already closing
  }
}
