/**
 * The two devices of the original topology, run by libzmq's proxy in a background thread:
 *
 * - forwarder: XSUB bound at `subscriber` (step workers connect their PUB there) ⇄ XPUB bound at
 *   `publisher` (pipeline servers connect their SUB there, `mario pipeline --sub-connect`).
 *   Announcements from every worker reach every pipeline; subscriptions flow back upstream.
 * - streamer: PULL bound at `pull` (clients push requests there) → PUSH bound at `push` (pipeline
 *   servers connect their PULL there, `mario pipeline --job-pull-connect`), load-balanced.
 *
 * ```ts
 * const forwarder = await startForwarder({ subscriber: "tcp://127.0.0.1:6000", publisher: "tcp://127.0.0.1:6060" });
 * await forwarder.stop();
 * ```
 */
import * as zmq from "zeromq";
import { silentLogger, type Logger } from "../log/logger.ts";
import { bindAndRead, closeSocket, LINK_OPTIONS, warnIfExposed } from "./_sockets.ts";
import type { Curve } from "./curve/curve.ts";
import { guardSocket } from "./curve/secure-socket.ts";
import { Refusals } from "./refusals.ts";

export interface DeviceOptions {
  /**
   * CurveZMQ: both sides are CURVE servers admitting `curve.allowed` only (workers, clients and
   * pipeline servers connect with this device's public key as `--curve-server-key`). Default: off.
   */
  curve?: Curve | undefined;
  logger?: Logger | undefined;
}

export interface Device {
  /** Bound endpoints, ports resolved: [front, back]. */
  readonly addresses: readonly [string, string];
  /** Peers refused (a CURVE key not allowed), by reason. */
  readonly refusals: Refusals;
  /** Terminates the proxy and closes both sockets. */
  stop(): Promise<void>;
}

export interface ForwarderOptions extends DeviceOptions {
  /** Where steps publish: the XSUB bind address. */
  subscriber: string;
  /** Where pipelines subscribe: the XPUB bind address. */
  publisher: string;
  /** Messages queued per connection, default 1000. */
  subscriberHwm?: number | undefined;
  publisherHwm?: number | undefined;
}

export interface StreamerOptions extends DeviceOptions {
  /** Where clients push: the PULL bind address. */
  pull: string;
  /** Where pipelines pull: the PUSH bind address. */
  push: string;
  /** Messages queued per connection, default 1000. */
  pullHwm?: number | undefined;
  pushHwm?: number | undefined;
}

export async function startForwarder(options: ForwarderOptions): Promise<Device> {
  const front = new zmq.XSubscriber({ ...LINK_OPTIONS, receiveHighWaterMark: options.subscriberHwm ?? 1000, linger: 0 });
  const back = new zmq.XPublisher({ ...LINK_OPTIONS, sendHighWaterMark: options.publisherHwm ?? 1000, linger: 0 });
  return run(front, back, options.subscriber, options.publisher, options, ["announcements in (--subscriber)", "announcements out (--publisher)"]);
}

export async function startStreamer(options: StreamerOptions): Promise<Device> {
  const front = new zmq.Pull({ ...LINK_OPTIONS, receiveHighWaterMark: options.pullHwm ?? 1000, linger: 0 });
  const back = new zmq.Push({ ...LINK_OPTIONS, sendHighWaterMark: options.pushHwm ?? 1000, linger: 0 });
  return run(front, back, options.pull, options.push, options, ["requests in (--pull)", "requests out (--push)"]);
}

async function run(
  front: zmq.Socket,
  back: zmq.Socket,
  frontAddress: string,
  backAddress: string,
  options: DeviceOptions,
  names: [string, string],
): Promise<Device> {
  const logger = options.logger ?? silentLogger;
  const refusals = new Refusals(logger);
  const releases: (() => void)[] = [];
  let addresses: [string, string];
  try {
    releases.push(await guardSocket(front, options.curve, "front", refusals), await guardSocket(back, options.curve, "back", refusals));
    addresses = [await bindAndRead(front, frontAddress), await bindAndRead(back, backAddress)];
  } catch (error) {
    closeSocket(front, 0);
    closeSocket(back, 0);
    for (const release of releases) release();
    throw error;
  }
  addresses.forEach((address, i) => warnIfExposed(address, options.curve !== undefined, `the device's ${names[i]!}`, logger));
  const proxy = new zmq.Proxy(front, back);
  const done = proxy.run();
  let stopping: Promise<void> | undefined;
  return {
    addresses,
    refusals,
    stop() {
      stopping ??= (async () => {
        proxy.terminate();
        await done;
        closeSocket(front, 0);
        closeSocket(back, 0);
        for (const release of releases) release();
      })();
      return stopping;
    },
  };
}
