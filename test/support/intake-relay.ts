/**
 * A job intake in front of a pipeline server's, over real ZeroMQ sockets: it takes client requests
 * on a PULL of its own, counts them by message type, and forwards them to the server (or drops
 * them, as a server that does not know a type does). `loseReplies`: requests are forwarded with
 * their `replyTo` pointing to a socket of the relay that discards what it gets (a server that took
 * the request in, whose answer never came back); `strip`: fields taken out of each body.
 *
 * ```ts
 * const relay = await IntakeRelay.start(server.jobPullAddress, { drop: ["runs"] });
 * const client = new PipelineClient(relay.address);   // …
 * relay.counts.get("enqueues");   // messages seen of that type
 * await relay.close();
 * ```
 */
import * as zmq from "zeromq";

export interface IntakeRelayOptions {
  /** Message types dropped, not forwarded (counted all the same). */
  drop?: readonly string[];
  /** Forward with `replyTo` rewritten to a sink of the relay: the server's answers are lost. */
  loseReplies?: boolean;
  /** Body fields taken out of every message forwarded (e.g. `held`: a client as an older server reads it). */
  strip?: readonly string[];
}

export class IntakeRelay {
  readonly counts = new Map<string, number>();
  readonly #pull = new zmq.Pull({ linger: 0 });
  readonly #push = new zmq.Push({ linger: 0 });
  readonly #sink = new zmq.Pull({ linger: 0 });
  #loop: Promise<void> | undefined;
  #sinkLoop: Promise<void> | undefined;
  address = "";

  static async start(target: string, options: IntakeRelayOptions = {}): Promise<IntakeRelay> {
    const relay = new IntakeRelay();
    await relay.#start(target, options);
    return relay;
  }

  /** Messages of `type` seen so far. */
  count(type: string): number {
    return this.counts.get(type) ?? 0;
  }

  async #start(target: string, options: IntakeRelayOptions): Promise<void> {
    await this.#pull.bind("tcp://127.0.0.1:0");
    this.address = this.#pull.lastEndpoint!;
    await this.#sink.bind("tcp://127.0.0.1:0");
    const sink = this.#sink.lastEndpoint!;
    this.#push.connect(target);
    this.#sinkLoop = (async () => {
      for await (const _ of this.#sink) {
        // discarded: the answers that never reach their client
      }
    })().catch(() => {});
    this.#loop = (async () => {
      for await (const frames of this.#pull) {
        const type = frames[1]?.toString() ?? "";
        this.counts.set(type, this.count(type) + 1);
        if (options.drop?.includes(type) === true) continue;
        let out = frames;
        if ((options.loseReplies === true || options.strip !== undefined) && frames[2] !== undefined) {
          const body = JSON.parse(frames[2].toString()) as Record<string, unknown>;
          if (options.loseReplies === true) body.replyTo = sink;
          for (const field of options.strip ?? []) delete body[field];
          out = [frames[0]!, frames[1]!, Buffer.from(JSON.stringify(body))];
        }
        await this.#push.send(out);
      }
    })().catch(() => {});
  }

  async close(): Promise<void> {
    this.#pull.close();
    this.#push.close();
    this.#sink.close();
    await Promise.all([this.#loop, this.#sinkLoop]);
  }
}
