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
import { bindAndRead, closeSocket, LINK_OPTIONS } from "./_sockets.ts";

export interface Device {
  /** Bound endpoints, ports resolved: [front, back]. */
  readonly addresses: readonly [string, string];
  /** Terminates the proxy and closes both sockets. */
  stop(): Promise<void>;
}

export interface ForwarderOptions {
  /** Where steps publish: the XSUB bind address. */
  subscriber: string;
  /** Where pipelines subscribe: the XPUB bind address. */
  publisher: string;
  /** Messages queued per connection, default 1000. */
  subscriberHwm?: number | undefined;
  publisherHwm?: number | undefined;
}

export interface StreamerOptions {
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
  return run(front, back, options.subscriber, options.publisher);
}

export async function startStreamer(options: StreamerOptions): Promise<Device> {
  const front = new zmq.Pull({ ...LINK_OPTIONS, receiveHighWaterMark: options.pullHwm ?? 1000, linger: 0 });
  const back = new zmq.Push({ ...LINK_OPTIONS, sendHighWaterMark: options.pushHwm ?? 1000, linger: 0 });
  return run(front, back, options.pull, options.push);
}

async function run(front: zmq.Socket, back: zmq.Socket, frontAddress: string, backAddress: string): Promise<Device> {
  let addresses: [string, string];
  try {
    addresses = [await bindAndRead(front, frontAddress), await bindAndRead(back, backAddress)];
  } catch (error) {
    closeSocket(front, 0);
    closeSocket(back, 0);
    throw error;
  }
  const proxy = new zmq.Proxy(front, back);
  const done = proxy.run();
  let stopping: Promise<void> | undefined;
  return {
    addresses,
    stop() {
      stopping ??= (async () => {
        proxy.terminate();
        await done;
      })();
      return stopping;
    },
  };
}
