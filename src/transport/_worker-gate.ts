/**
 * What a pipeline server believes of what it hears on its SUB socket, where anyone may publish:
 * - a new worker id is taken on only when its CURVE key (with keys on) is allowed and the
 *   admission allows it (announced twice, under the worker limit and the rate of new connections);
 * - a known worker's announcement or `bye` counts only when sealed with the secret this server
 *   gave it at registration, with a sequence number above the last (no spoof, no replay);
 * - a step's policy comes from the server's own project; what a worker states is used only for
 *   a step the project does not configure, and only within bounds; a mismatch is logged once.
 * Every refusal is counted in `refusals`.
 *
 * ```ts
 * const gate = new WorkerGate({ refusals, logger, stepConfigs: new Map([["hash", { timeoutMs: 5000 }]]) });
 * if (gate.admits(announcement, remotes.size)) register(announcement);
 * if (gate.proves(remote, announcement)) update(remote, announcement);
 * dispatcher.addWorker(remote, gate.policyFor(announcement));
 * ```
 */
import { boundStatedPolicy, DEFAULT_POLICY_BOUNDS, type PolicyBounds } from "../core/policy-bounds.ts";
import { resolveStepPolicy, type StepConfig, type StepPolicy } from "../core/step-config.ts";
import type { Logger } from "../log/logger.ts";
import type { Curve } from "./curve/curve.ts";
import type { Body } from "./protocol.ts";
import type { Refusals } from "./refusals.ts";
import { WorkerAdmission, type AdmissionOptions } from "./_worker-admission.ts";
import { newServerId, sealAnnouncement, sealBye, type WorkerCredential } from "./_worker-proof.ts";

/** What the gate needs of a registered worker. */
export interface Registered {
  readonly workerId: string;
  readonly address: string;
  readonly credential: WorkerCredential;
}

export interface WorkerGateOptions extends AdmissionOptions {
  refusals: Refusals;
  logger: Logger;
  curve?: Curve | undefined;
  /** The server's own configuration of each step (its project, or flags). */
  stepConfigs?: ReadonlyMap<string, StepConfig> | undefined;
  /** Bounds of what a worker may state. */
  bounds?: Partial<PolicyBounds> | undefined;
}

export class WorkerGate {
  /** This server's id in `welcome` and in the workers' proofs. */
  readonly serverId = newServerId();
  readonly bounds: PolicyBounds;
  readonly #admission: WorkerAdmission;
  readonly #o: WorkerGateOptions;
  /** Job types whose stated-policy mismatch was logged already. */
  readonly #logged = new Set<string>();

  constructor(options: WorkerGateOptions) {
    this.#admission = new WorkerAdmission(options);
    this.#o = options;
    this.bounds = { ...DEFAULT_POLICY_BOUNDS, ...options.bounds };
  }

  /** Whether to register the unknown worker `a` names, the server feeding `workers` now. */
  admits(a: Body<"announce">, workers: number, now = Date.now()): boolean {
    const curve = this.#o.curve;
    if (curve !== undefined && (a.curveKey === undefined || !curve.allowed.has(a.curveKey))) {
      this.#o.refusals.record("WORKER_KEY_REFUSED", { workerId: a.workerId, address: a.address, curveKey: a.curveKey ?? "(none)" });
      return false;
    }
    const verdict = this.#admission.consider(a.workerId, workers, now);
    if (verdict === "admit") return true;
    if (verdict !== "wait") this.#o.refusals.record(verdict, { workerId: a.workerId, address: a.address, workers });
    return false;
  }

  /** Candidates forgotten without a second announcement since the last call (a flood of one-shot ids). */
  countUnconfirmed(): void {
    const forgotten = this.#admission.takeForgotten();
    for (let i = 0; i < forgotten; i++) this.#o.refusals.record("WORKER_UNCONFIRMED");
  }

  /** True when `a` is sealed by `remote`'s secret with a new sequence number; counts the rest. */
  proves(remote: Registered, a: Body<"announce">): boolean {
    const ok = a.address === remote.address && remote.credential.accept(a.seq, a.proofs?.[this.serverId], (secret, seq) => sealAnnouncement(secret, { ...a, seq }));
    if (!ok) this.#o.refusals.record("WORKER_UNPROVEN", { workerId: a.workerId, address: a.address, message: "announce" });
    return ok;
  }

  /** The same for a `bye` heard on SUB. */
  provesBye(remote: Registered, bye: Body<"bye">): boolean {
    const ok = remote.credential.accept(bye.seq, bye.proofs?.[this.serverId], (secret, seq) => sealBye(secret, { ...bye, seq }));
    if (!ok) this.#o.refusals.record("WORKER_UNPROVEN", { workerId: bye.workerId, message: "bye" });
    return ok;
  }

  /** The policy of `a.jobType`: the server's own, else what the worker states within bounds. */
  policyFor(a: Body<"announce">): StepPolicy {
    const stated = a.policy;
    const own = this.#o.stepConfigs?.get(a.jobType);
    if (own !== undefined) {
      const policy = resolveStepPolicy(own);
      const differs = stated.timeoutMs !== policy.timeoutMs || stated.retries !== policy.retry.maxAttempts - 1;
      if (differs) this.#once(a.jobType, "a worker states another policy than this server's project; the project's is used", { stated, used: { timeoutMs: policy.timeoutMs, retries: policy.retry.maxAttempts - 1 } });
      return policy;
    }
    const { config, clamped } = boundStatedPolicy(stated, this.bounds);
    if (clamped.length > 0) this.#once(a.jobType, "a worker states a policy beyond this server's bounds; bounded", { clamped });
    return resolveStepPolicy(config);
  }

  #once(jobType: string, message: string, fields: Record<string, unknown>): void {
    if (this.#logged.has(jobType)) return;
    this.#logged.add(jobType);
    this.#o.logger.warn(message, { jobType, ...fields });
  }
}
