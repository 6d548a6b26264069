/**
 * Cancel, as the engine does it: storage decides (`StorageBackend.cancel`, atomic), and the
 * worker holding a running job's lease is told (`DispatchTarget.cancel`), so that its
 * `ctx.signal` aborts with a CancelledError. With several pipeline servers on one storage, the
 * cancel may reach a server that does not hold the lease: every server reads, once a second
 * (with its reclaim), which of the jobs it holds a cancel was asked for (one bounded read,
 * `cancelRequested`, that reads no record of a job without one) and tells their workers.
 */
import type { CancelResult } from "../storage/storage-backend.ts";
import type { EngineParts } from "./dispatcher-events.ts";
import type { WorkerRoster } from "./_worker-roster.ts";

export interface CancelHost extends Omit<EngineParts, "policyFor"> {
  roster: WorkerRoster;
}

export class Cancels {
  readonly #host: CancelHost;

  constructor(host: CancelHost) {
    this.#host = host;
  }

  async cancel(jobId: string): Promise<CancelResult> {
    const answer = await this.#host.storage.cancel(jobId);
    if (answer.status === "cancelled") {
      this.#host.events.emit("job:finished", { jobId, pipeline: answer.job.pipeline, status: "cancelled", error: answer.job.error });
    } else if (answer.status === "cancelling") {
      this.#tell(jobId);
    }
    return answer;
  }

  /** Tells the workers of the jobs held here that were cancelled (through any server) and not told yet. */
  async sweep(served: (pipeline: string) => boolean): Promise<void> {
    for (const [pipeline, jobIds] of this.#host.roster.untoldByPipeline()) {
      if (!served(pipeline)) continue;
      for (const jobId of await this.#host.storage.cancelRequested(pipeline, jobIds)) this.#tell(jobId);
    }
  }

  #tell(jobId: string): void {
    const held = this.#host.roster.tellCancel(jobId);
    if (held === undefined) return;
    const { slot, flight } = held;
    this.#host.logger.info("job cancelled while it runs: its worker is told", { jobId, workerId: slot.target.workerId });
    try {
      slot.target.cancel?.(jobId, flight.delivery.token);
    } catch (error) {
      this.#host.logger.warn("worker not told of a cancel (its result is discarded)", { jobId, error: String(error) });
    }
  }
}
