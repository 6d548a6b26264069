/**
 * Jobs waiting for a time (a delayed job's start), by id, with the earliest found without a scan:
 * a binary min-heap of (time, id) beside a map of each member's time. `delete` is O(1): a heap
 * entry whose id is gone, or whose time changed, is dropped when it reaches the top.
 *
 * ```ts
 * const due = new DueSet();
 * due.add("job-1", Date.now() + 2000);
 * due.takeDue(Date.now());   // [] now, ["job-1"] two seconds later
 * ```
 */
export class DueSet {
  readonly #at = new Map<string, number>();
  #heap: { at: number; id: string }[] = [];

  get size(): number {
    return this.#at.size;
  }

  has(id: string): boolean {
    return this.#at.has(id);
  }

  ids(): IterableIterator<string> {
    return this.#at.keys();
  }

  add(id: string, at: number): void {
    this.#at.set(id, at);
    this.#heap.push({ at, id });
    this.#up(this.#heap.length - 1);
  }

  /** Forgets `id` (a cancel); false when it was not here. */
  delete(id: string): boolean {
    return this.#at.delete(id);
  }

  /** Takes out every member due at `now` (time ≤ now), earliest first, at most `limit`. */
  takeDue(now: number, limit = Infinity): string[] {
    const due: string[] = [];
    while (this.#heap.length > 0 && due.length < limit) {
      const top = this.#heap[0]!;
      const live = this.#at.get(top.id) === top.at;
      if (live && top.at > now) break;
      this.#pop();
      if (!live) continue;
      this.#at.delete(top.id);
      due.push(top.id);
    }
    if (this.#heap.length > 64 && this.#heap.length > this.#at.size * 4) this.#rebuild();
    return due;
  }

  #pop(): void {
    const last = this.#heap.pop()!;
    if (this.#heap.length === 0) return;
    this.#heap[0] = last;
    this.#down(0);
  }

  /** Drops stale entries once they are most of the heap. */
  #rebuild(): void {
    this.#heap = [...this.#at].map(([id, at]) => ({ at, id }));
    for (let i = (this.#heap.length >> 1) - 1; i >= 0; i--) this.#down(i);
  }

  #up(i: number): void {
    const heap = this.#heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]!.at <= heap[i]!.at) return;
      [heap[parent], heap[i]] = [heap[i]!, heap[parent]!];
      i = parent;
    }
  }

  #down(i: number): void {
    const heap = this.#heap;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let least = i;
      if (left < heap.length && heap[left]!.at < heap[least]!.at) least = left;
      if (right < heap.length && heap[right]!.at < heap[least]!.at) least = right;
      if (least === i) return;
      [heap[least], heap[i]] = [heap[i]!, heap[least]!];
      i = least;
    }
  }
}
