/**
 * A lane for starved requests with a bounded share of picks, for PLAS's anti-starvation.
 *
 * Autellix promotes a program once its waiting reaches β × its service, to the top queue. Near
 * saturation waits are long for everyone, so most programs qualify, the top queue fills with
 * them and PLAS turns into FIFO (bench/sched, KV-scarce engine at 95% load: p95 token latency
 * 0.70× FCFS's, against 0.19× with no promotion at all). This lane keeps the guarantee and drops
 * the collapse: a promoted request stays where least-attained-service put it, and also queues
 * here, oldest first; one pick in every `turnPicks` goes to the lane's oldest request. So a
 * starved request waits for at most `turnPicks` × (the promoted requests ahead of it) picks, and
 * the other picks keep PLAS's order however many requests are promoted.
 *
 * The share is counted in whole picks, so a decision never depends on floating-point sums.
 */

import { IndexedHeap } from "./heap.js";

export class PromotedLane<E> {
  private readonly queue: IndexedHeap<E>;
  /** Picks since the lane last had its turn, capped at `turnPicks`: a turn is due at the cap. */
  private picksSinceTurn: number;

  /**
   * @param turnPicks one pick in this many serves the lane while it holds a request (1: every
   *   pick, promoted requests strictly first).
   */
  constructor(
    private readonly turnPicks: number,
    oldestFirst: (a: E, b: E) => boolean,
    idOf: (entry: E) => string,
  ) {
    if (!Number.isSafeInteger(turnPicks) || turnPicks < 1)
      throw new RangeError(`turnPicks must be a positive integer, got ${turnPicks}`);
    this.queue = new IndexedHeap(oldestFirst, idOf);
    // An idle lane has its turn banked: the first starved request runs on the next pick.
    this.picksSinceTurn = turnPicks;
  }

  /** Picks counted towards the next turn; exported with the policy's state. */
  get credit(): number {
    return this.picksSinceTurn;
  }

  set credit(picks: number) {
    this.picksSinceTurn = Math.min(this.turnPicks, Math.max(0, Math.floor(picks)));
  }

  has(id: string): boolean {
    return this.queue.has(id);
  }

  add(entry: E): void {
    this.queue.push(entry);
  }

  remove(id: string): void {
    this.queue.remove(id);
  }

  clear(): void {
    this.queue.clear();
    this.picksSinceTurn = this.turnPicks;
  }

  /** The request the next pick would take from the lane, or undefined if it is not its turn. */
  peekTurn(): E | undefined {
    return this.picksSinceTurn + 1 >= this.turnPicks ? this.queue.peek() : undefined;
  }

  /**
   * Counts one pick and, if it is the lane's turn and it holds a request, takes its oldest.
   * Call exactly once per pick that runs something; the caller removes the entry elsewhere.
   */
  takeTurn(): E | undefined {
    this.picksSinceTurn = Math.min(this.turnPicks, this.picksSinceTurn + 1);
    if (this.picksSinceTurn < this.turnPicks) return undefined;
    const entry = this.queue.pop();
    if (entry !== undefined) this.picksSinceTurn = 0;
    return entry;
  }
}
