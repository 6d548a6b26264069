/**
 * One running attempt's cancel, which costs nothing until it happens. An AbortController per
 * attempt, its signal and an executor's listener on it cost ~8–9 µs of CPU per attempt on node 20
 * (and garbage), for a cancel that almost never comes; this is a flag and a list. An executor that
 * takes an AbortSignal gets one made on first ask (`signal`), aborted with the same reason.
 *
 * ```ts
 * const cancel = new AttemptCancel();
 * executor.execute(delivery, { ...hooks, cancel });   // the executor calls cancel.onCancel(...)
 * cancel.cancel(new CancelledError());                 // listeners run once, the signal (if made) aborts
 * ```
 */
export class AttemptCancel {
  #cancelled = false;
  #reason: unknown;
  #listeners: ((reason: unknown) => void)[] | undefined;
  #controller: AbortController | undefined;

  get cancelled(): boolean {
    return this.#cancelled;
  }

  /** What `cancel` was given (undefined before). */
  get reason(): unknown {
    return this.#reason;
  }

  /** Calls `listener` once, when cancelled: at once when it already is. A listener must not throw. */
  onCancel(listener: (reason: unknown) => void): void {
    if (this.#cancelled) listener(this.#reason);
    else (this.#listeners ??= []).push(listener);
  }

  /** An AbortSignal that aborts (with the reason) when this is cancelled; made on first ask. */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#cancelled) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  /** Cancels, once (a second call does nothing): every listener hears `reason`, in the order they came. */
  cancel(reason: unknown): void {
    if (this.#cancelled) return;
    this.#cancelled = true;
    this.#reason = reason;
    const listeners = this.#listeners ?? [];
    this.#listeners = undefined;
    for (const listener of listeners) listener(reason);
    this.#controller?.abort(reason);
  }
}
