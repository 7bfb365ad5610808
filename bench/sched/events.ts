/**
 * The simulator's event queue: a binary heap ordered by (time, insertion sequence), so events at
 * the same microsecond run in the order they were scheduled, on every run.
 */

export interface SimEvent {
  timeUs: number;
  seq: number;
  kind: number;
  /** Index of the program (or tenant / agent for arrival events). */
  a: number;
  /** Event-specific payload. */
  ref: unknown;
}

const before = (x: SimEvent, y: SimEvent) =>
  x.timeUs < y.timeUs || (x.timeUs === y.timeUs && x.seq < y.seq);

/** Min-heap of events by (timeUs, seq). */
export class EventQueue {
  private readonly heap: SimEvent[] = [];
  private nextSeq = 0;

  get size(): number {
    return this.heap.length;
  }

  /** Schedules an event; `timeUs` must be an integer. */
  push(timeUs: number, kind: number, a: number, ref: unknown = null): void {
    if (!Number.isInteger(timeUs)) throw new Error(`event time ${timeUs} is not an integer`);
    const e: SimEvent = { timeUs, seq: this.nextSeq++, kind, a, ref };
    const h = this.heap;
    let i = h.length;
    h.push(e);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p] as SimEvent;
      if (!before(e, parent)) break;
      h[i] = parent;
      i = p;
    }
    h[i] = e;
  }

  pop(): SimEvent | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (top === undefined || last === undefined || h.length === 0) return top;
    let i = 0;
    const n = h.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && before(h[r] as SimEvent, h[l] as SimEvent) ? r : l;
      if (!before(h[c] as SimEvent, last)) break;
      h[i] = h[c] as SimEvent;
      i = c;
    }
    h[i] = last;
    return top;
  }
}
