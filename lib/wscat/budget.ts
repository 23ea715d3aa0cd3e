// The memory a run may spend on what servers send: one budget for the whole run, over every connection
// at once (the pool's spares included), not one per connection that N connections multiply. What counts
// is what wsgate holds: frames received that no step has consumed yet, and a frame still arriving. A
// frame leaves it when a step consumes it, when a full inbox sheds it, or when its connection ends.
// The transcript, which is written to disk, does not count: while its writes are queued past the
// stream's high-water mark, every connection stops reading wscat (wscat then stops reading its socket,
// and the server meets TCP backpressure), so a slow disk slows the run instead of filling memory.
// Over budget, the holder that holds the most is cut, not whichever connection happened to cross the
// line: under --parallel, one gate's flood must not fail a healthy connection of another gate.

/** One holder of the budget (a connection): what it holds, and how to cut it when it holds the most. */
export interface Holder {
  held: number;
  cut(): void;
}

/** Characters of frame text a run may hold; a JSON frame counts twice (its text and its parsed value). */
export const RUN_HELD_MAX = 128 * 1024 * 1024;

export class HeldBudget {
  private held = 0;
  private stalls = 0;
  private waiting: (() => void)[] = [];
  private readonly holders = new Set<Holder>();

  constructor(readonly max = RUN_HELD_MAX) {}

  /** Change what is held by `delta` characters (negative to release), on behalf of `by` when given. */
  add(delta: number, by?: Holder): void {
    this.held += delta;
    if (!by) return;
    by.held += delta;
    if (by.held > 0) this.holders.add(by);
    else this.holders.delete(by);
  }

  /** While over budget, cut the holder that holds the most (each cut releases what it held). */
  cutLargest(): void {
    while (this.over) {
      let largest: Holder | undefined;
      for (const h of this.holders) if (!largest || h.held > largest.held) largest = h;
      if (!largest) return;
      const before = largest.held;
      largest.cut();
      // A cut that released nothing would loop: it leaves the set so the next largest is tried.
      if (largest.held >= before) this.holders.delete(largest);
    }
  }

  get total(): number {
    return this.held;
  }

  get over(): boolean {
    return this.held > this.max;
  }

  /** Readers pause until `until` settles (a write queue draining). */
  stall(until: Promise<unknown>): void {
    this.stalls++;
    const done = () => {
      this.stalls--;
      if (this.stalls > 0) return;
      const ws = this.waiting;
      this.waiting = [];
      for (const w of ws) w();
    };
    until.then(done, done);
  }

  get stalled(): boolean {
    return this.stalls > 0;
  }

  /** `fn` once no stall is left (at once when none is). */
  whenFree(fn: () => void): void {
    if (this.stalls === 0) fn();
    else this.waiting.push(fn);
  }
}

/** The budget of this process's run: one wsgate process runs one run (a test may pass its own). */
export const RUN_BUDGET = new HeldBudget();
