/**
 * The Cluster view of a Dispatcher in this process (what `mario up` serves over HTTP): the
 * dispatcher's front door, under the names the gateway uses. Each member forwards; its types are
 * the Cluster port's.
 */
import { isFinal } from "../core/job.ts";
import type { Cluster, ClusterEvents } from "./cluster.ts";
import type { EventSource } from "../core/typed-emitter.ts";
import type { Dispatcher } from "./dispatcher.ts";

export class DispatcherCluster implements Cluster {
  readonly reportsSteps = true;
  /** The dispatcher's events, a superset of the cluster's. */
  readonly events: EventSource<ClusterEvents>;
  readonly #dispatcher: Dispatcher;

  constructor(dispatcher: Dispatcher) {
    this.#dispatcher = dispatcher;
    this.events = dispatcher.events;
  }

  pipelines: Cluster["pipelines"] = () => this.#dispatcher.pipelines;
  enqueue: Cluster["enqueue"] = (pipeline, instructions, options) => this.#dispatcher.enqueue(pipeline, instructions, options);
  getJob: Cluster["getJob"] = (jobId) => this.#dispatcher.get(jobId);
  redrive: Cluster["redrive"] = (jobId, options) => this.#dispatcher.redrive(jobId, options);
  redriveDead: Cluster["redriveDead"] = (pipeline, filter) => this.#dispatcher.redriveDead(pipeline, filter);
  deleteJob: Cluster["deleteJob"] = (jobId) => this.#dispatcher.forget(jobId);
  cancel: Cluster["cancel"] = (jobId) => this.#dispatcher.cancel(jobId);
  findJobs: Cluster["findJobs"] = (query) => this.#dispatcher.find(query);
  listJobs: Cluster["listJobs"] = (query) => this.#dispatcher.list(query);
  stats: Cluster["stats"] = () => this.#dispatcher.stats();
  workers: Cluster["workers"] = () => this.#dispatcher.workers();
  ready: Cluster["ready"] = () => this.#dispatcher.ready();
  schedules: NonNullable<Cluster["schedules"]> = () => this.#dispatcher.schedules();

  /** The job's record once final, or its current record when the wait runs out or `signal` aborts. */
  waitFor: Cluster["waitFor"] = async (jobId, timeoutMs, signal) => (await this.#dispatcher.waitForFinal(jobId, { timeoutMs, signal })) ?? this.getJob(jobId);

  run: NonNullable<Cluster["run"]> = async (pipeline, instructions, options) => {
    const { waitMs, signal, ...enqueue } = options;
    const outcome = await this.#dispatcher.enqueue(pipeline, instructions, enqueue);
    if (outcome.status === "busy" || isFinal(outcome.job.status)) return outcome;
    return { status: outcome.status, job: (await this.waitFor(outcome.job.id, waitMs, signal)) ?? outcome.job };
  };
}
