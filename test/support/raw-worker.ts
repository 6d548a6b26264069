/**
 * A step worker made of raw zeromq.js sockets, for tests that play a misbehaving or hostile
 * worker: a ROUTER where the pipeline server connects, a PUB to the server's SUB. It speaks the
 * protocol as far as a test asks: it keeps the `welcome` a server sends (so its announcements
 * are sealed and it becomes a registered worker), records the `jobs` it gets, and answers nothing
 * unless told to.
 *
 * ```ts
 * const raw = new RawWorker({ jobType: "work" });
 * await raw.start(server.subAddress);
 * await raw.register(server);                       // welcomed, proven, fed
 * raw.received;                                     // job id → token of every delivery
 * await raw.toServer("results", { workerId: raw.workerId, outcomes });
 * await raw.close();
 * ```
 */
import * as zmq from "zeromq";
import type { PipelineServer } from "../../src/transport/pipeline-server.ts";
import { decode, encode, type BodyInput } from "../../src/transport/protocol.ts";
import { sealAnnouncement } from "../../src/transport/_worker-proof.ts";
import { eventually } from "./eventually.ts";

export interface AnnouncementFields {
  workerId?: string;
  address?: string;
  capacity?: number;
  heartbeatMs?: number;
  policy?: { timeoutMs: number; retries: number; backoff: Record<string, number> };
}

export class RawWorker {
  readonly router = new zmq.Router({ linger: 0 });
  readonly pub = new zmq.Publisher({ linger: 0 });
  readonly workerId: string;
  readonly jobType: string;
  address = "";
  /** The server's routing id, once it connected. */
  serverPeer: Buffer | undefined;
  serverId = "";
  secret = "";
  seq = 0;
  /** Deliveries received: job id → token. */
  readonly received = new Map<string, string>();
  #reading: Promise<void> | undefined;
  #beat: NodeJS.Timeout | undefined;

  constructor(options: { jobType: string; workerId?: string }) {
    this.jobType = options.jobType;
    this.workerId = options.workerId ?? `raw-${Math.random().toString(36).slice(2, 10)}`;
  }

  async start(subAddress: string, bind = "tcp://127.0.0.1:0"): Promise<void> {
    await this.router.bind(bind);
    this.address = this.router.lastEndpoint!;
    this.pub.connect(subAddress);
    this.#reading = (async () => {
      try {
        for await (const [peer, ...frames] of this.router) {
          const message = decode(frames);
          if (message instanceof Error) continue;
          if (message.type === "welcome") {
            this.serverPeer = peer;
            this.serverId = message.body.serverId;
            this.secret = message.body.secret;
          } else if (message.type === "jobs") {
            this.serverPeer = peer;
            for (const d of message.body.deliveries) this.received.set(d.jobId, d.token);
          }
        }
      } catch {
        // closed
      }
    })();
  }

  /** An announcement; sealed with the welcome's secret when it has one and speaks for itself. */
  announcement(fields: AnnouncementFields = {}): BodyInput<"announce"> {
    const body = {
      workerId: fields.workerId ?? this.workerId,
      jobType: this.jobType,
      address: fields.address ?? this.address,
      capacity: fields.capacity ?? 10,
      inFlight: 0,
      host: "raw",
      pid: 1,
      heartbeatMs: fields.heartbeatMs ?? 100,
      draining: false,
      policy: fields.policy ?? { timeoutMs: 5000, retries: 2, backoff: {} },
      seq: ++this.seq,
    };
    if (this.secret === "" || (fields.workerId !== undefined && fields.workerId !== this.workerId)) return body;
    return { ...body, proofs: { [this.serverId]: sealAnnouncement(this.secret, body) } };
  }

  async announce(fields: AnnouncementFields = {}): Promise<void> {
    await this.pub.send(encode("announce", this.announcement(fields)));
  }

  /** Announces (every 50 ms) until the server welcomed it and feeds it. */
  async register(server: PipelineServer, fields: AnnouncementFields = {}): Promise<void> {
    await eventually(
      async () => {
        await this.announce(fields);
        return server.dispatcher.hasWorker(this.workerId);
      },
      { intervalMs: 50, message: `${this.workerId} registered` },
    );
  }

  /** Keeps announcing every `ms` (a heartbeat) until `stopHeartbeat`. */
  heartbeat(ms: number, fields: AnnouncementFields = {}): void {
    this.#beat = setInterval(() => void this.announce(fields).catch(() => {}), ms);
  }

  stopHeartbeat(): void {
    clearInterval(this.#beat);
  }

  /** Sends a message to the server over the connection it opened to this worker. */
  async toServer<T extends "results" | "bye" | "progress">(type: T, body: BodyInput<T>): Promise<void> {
    if (this.serverPeer === undefined) throw new Error("the server has not connected");
    await this.router.send([this.serverPeer, ...encode(type, body)]);
  }

  async close(): Promise<void> {
    this.stopHeartbeat();
    this.router.close();
    this.pub.close();
    await this.#reading;
  }
}
