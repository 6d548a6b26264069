/**
 * A small typed event emitter: `on<K extends keyof Events>`, as BullMQ's Worker listeners.
 * A listener that throws does not stop the others; its error goes to `onListenerError`.
 */
type Listener<A extends unknown[]> = (...args: A) => void;
type AnyListener = (...args: never[]) => void;

/** The listening half of an emitter: what a module hands out, so others subscribe but never emit. */
export interface EventSource<Events extends Record<string, unknown[]>> {
  /** Subscribes; returns the function that unsubscribes. */
  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void;
}

export class TypedEmitter<Events extends Record<string, unknown[]>> implements EventSource<Events> {
  readonly #listeners = new Map<keyof Events, Set<AnyListener>>();

  constructor(private readonly onListenerError: (error: unknown) => void = () => {}) {}

  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    const set = this.#listeners.get(event);
    if (set === undefined) this.#listeners.set(event, new Set([listener as unknown as AnyListener]));
    else set.add(listener as unknown as AnyListener);
    return () => this.off(event, listener);
  }

  off<K extends keyof Events>(event: K, listener: Listener<Events[K]>): void {
    this.#listeners.get(event)?.delete(listener as unknown as AnyListener);
  }

  hasListeners(event: keyof Events): boolean {
    return (this.#listeners.get(event)?.size ?? 0) > 0;
  }

  emit<K extends keyof Events>(event: K, ...args: Events[K]): void {
    const set = this.#listeners.get(event);
    if (set === undefined) return;
    for (const listener of [...set]) {
      try {
        (listener as unknown as Listener<Events[K]>)(...args);
      } catch (error) {
        this.onListenerError(error);
      }
    }
  }
}
