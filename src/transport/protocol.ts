/**
 * Mario's wire protocol over ZeroMQ. Every message is three frames: `[version, type, body]`:
 * the version tag `"MARIO1"`, an explicit string type, and a JSON body validated by a zod schema
 * for that type (the types sent per job, `jobs`, `results`, `ack`, `enqueues`, `waits`, `runs`
 * and `replies`, by hand-written checks that accept exactly what their schema accepts: _hot-checks.ts). A ROUTER prepends the peer's routing id, which the socket code strips first.
 *
 * ```ts
 * const frames = encode("ack", { acks: [{ jobId, token }] });        // [Buffer, Buffer, Buffer]
 * const decoded = decode(received, { maxBytes: 16 * 1024 * 1024 });
 * if (decoded instanceof ProtocolError) drops.count(decoded); else handle(decoded);
 * ```
 *
 * Who sends what:
 * - worker PUB → pipeline SUB: `announce` (also the heartbeat; its `stranded` lists pipelines of
 *   results the worker holds for a server that went away, with no live server of them known), `bye`
 * - pipeline DEALER → worker ROUTER: `welcome` (registration: the server's id and a secret for this
 *   worker, with which it seals its next announcements and `bye`s, see _worker-proof.ts), `jobs`
 *   (only from a peer that welcomed the worker), `ack`, `hello` (the pipelines this server serves,
 *   sent when an announcement lists one of them as stranded: the worker learns where to send those results),
 *   `cancel` (the jobs of these leases were cancelled: the worker aborts their attempts' `ctx.signal`;
 *   it counts only from the server that sent the job, under that lease's token)
 * - worker ROUTER → pipeline DEALER: `results`, `progress`, `bye`
 * - client PUSH → pipeline PULL: `enqueue`, `wait`, `cancelJob`; pipeline PUSH → client PULL: `reply`
 *   (a `cancelJob`'s reply says what became of the job in `cancel`: cancelled, cancelling, final)
 * - the same, batched (what PipelineClient sends): `enqueues`, `waits` (many requests, one
 *   `replyTo`); the server answers a batched request with `replies` (many replies in one message)
 * - `runs`: enqueue and wait as one request (`PipelineClient.run`): answered once, in `replies`,
 *   with the final record (or WAIT_TIMEOUT and the current one), and, when the job is not final
 *   within the request's `ackMs`, first with a `pending` reply (the job's summary: it was taken)
 * - credit (flow control at the queue limit): a client that sends `held` with its `enqueues`/`runs`
 *   (the requests it holds back per pipeline, waiting for room) is told by `credit` messages how
 *   many more it may send as this server's jobs of that pipeline finish; while it holds some, it
 *   says so again with `wants` (what it holds), or is forgotten after a few seconds
 *
 * Additions within MARIO1 are backward compatible: `hello`, `announce.stranded`, `cancel`,
 * `cancelJob`, `reply.cancel`, `runs`, `reply.pending`, `held`, `wants` and `credit` were added later; a server that does not know `stranded` ignores
 * it, a worker that does not know `hello` or `cancel` counts it as a dropped message (a cancelled
 * job's result is then discarded by storage), a server that does not know `cancelJob` drops it
 * (the client gets NO_ANSWER), and so a `runs` (the client then enqueues and waits instead); a
 * server that does not know `held` ignores it (it never sends `credit`: the client probes for room
 * now and then), and a client that does not know `credit` drops it (it is answered BUSY as before).
 */
import { z } from "zod";
import { DEFAULT_LOG_LIMITS } from "../core/job-logs.ts";
import { parseAddress } from "../core/address.ts";
import { ProtocolError } from "../core/errors/protocol-error.ts";
import { OversizedMessageError } from "./oversized-message-error.ts";
import { HOT_CHECKS } from "./_hot-checks.ts";

export const PROTOCOL_VERSION = "MARIO1";

/** Largest message accepted by default: 16 MiB, over all frames. */
export const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

const instructions = z.record(z.string(), z.unknown());
const jobError = z.object({
  name: z.string(),
  message: z.string(),
  stack: z.string().optional(),
  code: z.string().optional(),
  retryable: z.boolean().optional(),
});
const id = z.string().min(1).max(200);
const lease = z.object({ jobId: id, token: id });
/** Proofs of a worker's identity by server id (at most 64 servers). */
const proofs = z.record(z.string().min(1).max(64), z.string().max(100)).refine((p) => Object.keys(p).length <= 64, "more than 64 proofs");

const delivery = z.object({
  jobId: id,
  token: id,
  pipeline: z.string().min(1),
  jobType: z.string().min(1),
  stepIndex: z.number().int().nonnegative(),
  attempt: z.number().int().positive(),
  input: instructions,
  timeoutMs: z.number().int().positive(),
  /** When the lease ends (epoch ms, storage's clock): a worker does not start a delivery past it. Added later within MARIO1. */
  expiresAt: z.number().int().positive().optional(),
});

/** The lines an attempt wrote (bounded: the per-job limit, lines of at most 8 192 characters). */
const logLine = z.object({ t: z.number(), level: z.enum(["debug", "info", "warn", "error"]), msg: z.string().max(8192) });
/** `pipeline`: the delivery's (added within MARIO1; a result without it is settled only by the server that leased it). */
const outcomeBase = {
  jobId: id,
  token: id,
  pipeline: z.string().min(1).optional(),
  startedAt: z.number(),
  finishedAt: z.number(),
  workerId: id,
  logs: z.array(logLine).max(DEFAULT_LOG_LIMITS.maxLines).optional(),
  dropped: z.number().int().min(0).optional(),
};
const outcome = z.discriminatedUnion("ok", [
  z.object({ ...outcomeBase, ok: z.literal(true), output: z.unknown() }),
  z.object({ ...outcomeBase, ok: z.literal(false), error: jobError }),
]);

const backoff = z.object({
  type: z.enum(["fixed", "exponential"]).optional(),
  delayMs: z.number().optional(),
  maxDelayMs: z.number().optional(),
  jitter: z.number().optional(),
});

const replyTo = z.string().min(1);
/** Requests a client holds back per pipeline, waiting for room (at most 1000 pipelines). */
const held = z.record(z.string().min(1), z.number().int().nonnegative()).refine((h) => Object.keys(h).length <= 1000, "more than 1000 pipelines");
const enqueueItem = {
  requestId: id,
  pipeline: z.string().min(1),
  instructions: z.unknown(),
  /** Checked by the engine (core/enqueue-rules.ts), so a bad key is answered INVALID_REQUEST as over HTTP. */
  idempotencyKey: z.string().optional(),
  /**
   * When the job may start and its priority (added within MARIO1; a server that does not know
   * them ignores them). Any JSON: checked by the engine (core/start-rules.ts), so a bad one is
   * answered INVALID_DELAY / INVALID_PRIORITY with the same message as over HTTP.
   */
  delayMs: z.unknown().optional(),
  runAt: z.unknown().optional(),
  priority: z.unknown().optional(),
};
const waitItem = { requestId: id, jobId: id, timeoutMs: z.number().int().nonnegative() };
/** Enqueue, then wait up to `timeoutMs` for the job to be final; `ackMs`: say `pending` if it is not by then. */
const runItem = { ...enqueueItem, timeoutMs: z.number().int().nonnegative(), ackMs: z.number().int().nonnegative().optional() };
const reply = z.object({
  requestId: id,
  ok: z.boolean(),
  job: z.record(z.string(), z.unknown()).optional(),
  duplicate: z.boolean().optional(),
  /** A `cancelJob`'s answer: cancelled now, cancelling (running: it ends cancelled), or final (already finished; `job` says how). */
  cancel: z.enum(["cancelled", "cancelling", "final"]).optional(),
  /** A run's first answer when its job is not final within `ackMs`: taken (`job` is its summary); the final reply follows. */
  pending: z.boolean().optional(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
});

function isAddress(value: string): boolean {
  try {
    parseAddress(value);
    return true;
  } catch {
    return false;
  }
}

export const schemas = {
  announce: z.object({
    workerId: id,
    jobType: z.string().min(1),
    /** Where the pipeline connects to send jobs: a well-formed ZeroMQ address. */
    address: z.string().refine(isAddress, "not a tcp://host:port, ipc:// or inproc:// address"),
    capacity: z.number().int().nonnegative(),
    inFlight: z.number().int().nonnegative(),
    host: z.string(),
    pid: z.number().int(),
    heartbeatMs: z.number().int().positive(),
    /** True while the worker shuts down: send it nothing new. */
    draining: z.boolean().default(false),
    policy: z.object({ timeoutMs: z.number().int().positive(), retries: z.number().int().nonnegative(), backoff }),
    /** Pipelines of results held for a server that went away, with no live server of them known. */
    stranded: z.array(z.string().min(1)).max(1000).optional(),
    /** The worker's CURVE public key (Z85) when it runs with keys: its job socket's server key. */
    curveKey: z.string().length(40).optional(),
    /** Grows with every announcement and `bye` of this worker process (a replay is refused). */
    seq: z.number().int().nonnegative().optional(),
    /** Proofs by server id: HMAC of the fields under the secret that server gave in `welcome`. */
    proofs: proofs.optional(),
  }),
  /** A pipeline server registers a worker: seal what you send me on SUB with this secret. */
  welcome: z.object({ workerId: id, serverId: z.string().min(1).max(64), secret: z.string().min(32).max(100) }),
  /** A pipeline server greets a worker: the pipelines it serves (results of them may be sent to it). */
  hello: z.object({ pipelines: z.array(z.string().min(1)).max(10_000) }),
  /** The worker hands these jobs back; `final`: it is gone, remove it. */
  bye: z.object({
    workerId: id,
    handBack: z.array(id),
    final: z.boolean(),
    /** On SUB only: as in `announce`. */
    seq: z.number().int().nonnegative().optional(),
    proofs: proofs.optional(),
  }),
  /** `serverId`: the server that welcomed the worker (a worker runs jobs only from a server that did). */
  jobs: z.object({ deliveries: z.array(delivery).min(1), serverId: z.string().min(1).max(64).optional() }),
  results: z.object({ workerId: id, outcomes: z.array(outcome).min(1) }),
  ack: z.object({ acks: z.array(lease) }),
  /** The jobs of these leases were cancelled; `serverId`: the server that sent them (as in `jobs`). */
  cancel: z.object({ serverId: z.string().min(1).max(64), leases: z.array(lease).min(1).max(10_000) }),
  progress: z.object({
    reports: z.array(z.object({ pipeline: z.string().min(1).optional(), jobId: id, token: id, fraction: z.number().min(0).max(1), message: z.string().optional() })),
  }),
  enqueue: z.object({ ...enqueueItem, replyTo }),
  wait: z.object({ ...waitItem, replyTo }),
  /** Cancel a job (see `Dispatcher.cancel`); answered with a `reply` whose `cancel` says what became of it. */
  cancelJob: z.object({ requestId: id, jobId: id, replyTo }),
  reply,
  /** Many enqueue requests answered to one `replyTo`, each with its own requestId. */
  enqueues: z.object({ replyTo, requests: z.array(z.object(enqueueItem)).min(1), held: held.optional() }),
  /** Many wait requests answered to one `replyTo`. */
  waits: z.object({ replyTo, requests: z.array(z.object(waitItem)).min(1) }),
  /** Many runs (enqueue, then wait for the final record) answered to one `replyTo`. */
  runs: z.object({ replyTo, requests: z.array(z.object(runItem)).min(1), held: held.optional() }),
  /** A client holding requests back: how many, per pipeline (0: none any more). */
  wants: z.object({ replyTo, held }),
  /** Room for that many more enqueues per pipeline, for the client that is told. */
  credit: z.object({ grants: z.record(z.string().min(1), z.number().int().positive()) }),
  /** Answers to batched requests, in no particular order. */
  replies: z.object({ replies: z.array(reply).min(1) }),
} as const;

export type MessageType = keyof typeof schemas;
export type Body<T extends MessageType> = z.infer<(typeof schemas)[T]>;
export type BodyInput<T extends MessageType> = z.input<(typeof schemas)[T]>;
export type Message = { [T in MessageType]: { type: T; body: Body<T> } }[MessageType];

/** The three frames of a message. */
export function encode<T extends MessageType>(type: T, body: BodyInput<T>): [Buffer, Buffer, Buffer] {
  return encodeJson(type, JSON.stringify(body));
}

/** The three frames of a message whose body the caller has already written as JSON. */
export function encodeJson(type: MessageType, bodyJson: string): [Buffer, Buffer, Buffer] {
  return [Buffer.from(PROTOCOL_VERSION), Buffer.from(type), Buffer.from(bodyJson)];
}

export interface DecodeOptions {
  /** Largest message accepted, bytes over all frames. Default 16 MiB. */
  maxBytes?: number | undefined;
  /** Types this socket accepts; others are protocol errors. Default: all. */
  accept?: readonly MessageType[] | undefined;
}

/** Validates frames `[version, type, body]`; returns the message or a ProtocolError (never throws). */
export function decode(frames: readonly Buffer[], options: DecodeOptions = {}): Message | ProtocolError {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  let size = 0;
  for (const frame of frames) size += frame.length;
  if (size > maxBytes) return new OversizedMessageError(`message of ${size} bytes is over the limit of ${maxBytes}`);
  if (frames.length !== 3) return new ProtocolError(`expected 3 frames [version, type, body], got ${frames.length}`);
  const [version, typeFrame, bodyFrame] = frames as [Buffer, Buffer, Buffer];
  if (version.toString("latin1") !== PROTOCOL_VERSION) {
    return new ProtocolError(`unknown protocol version "${version.toString("latin1").slice(0, 20)}", expected ${PROTOCOL_VERSION}`);
  }
  const type = typeFrame.toString("latin1");
  if (!Object.hasOwn(schemas, type)) return new ProtocolError(`unknown message type "${type.slice(0, 40)}"`);
  if (options.accept !== undefined && !options.accept.includes(type as MessageType)) {
    return new ProtocolError(`message type "${type}" is not accepted on this socket`);
  }
  let json: unknown;
  try {
    json = JSON.parse(bodyFrame.toString("utf8"));
  } catch (error) {
    return new ProtocolError(`"${type}" body is not JSON`, { cause: error });
  }
  // The per-job types have hand-written checks (_hot-checks.ts, equal to their schemas); a body
  // one refuses is parsed by zod below, so the refusal names what zod names.
  const hot = HOT_CHECKS[type];
  if (hot !== undefined) {
    const body = hot(json);
    if (body !== undefined) return { type, body } as Message;
  }
  const parsed = schemas[type as MessageType].safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return new ProtocolError(`invalid "${type}" body at ${issue?.path.join(".") || "(root)"}: ${issue?.message ?? "invalid"}`);
  }
  return { type, body: parsed.data } as Message;
}
