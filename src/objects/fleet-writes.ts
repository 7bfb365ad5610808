/**
 * Write-behind for the Fleet object's frequent, small writes: acks, last-seen times and
 * telemetry reports. Every event that writes to a Durable Object's SQLite ends in a commit, and
 * with a thousand nodes acknowledging a broadcast those commits, not the work, set the pace
 * (measured by bench/fleet: 3.4 s to the last of 1,000 acks with a write per ack, 0.5 s
 * without). So these writes wait up to `FLEET_OBJECT_LIMITS.writeBehindMs` and go in one
 * transaction. Everything that reads them flushes first; state changes (hello, deploy
 * transitions, verification results, offline) are still written at once.
 *
 * The price: if the object is evicted or crashes inside that window, the buffered acks are lost
 * and those commands end `timed_out`, and the last-seen time and a report or two go missing.
 */

import { FLEET_OBJECT_LIMITS } from "../schedcp/fleet/limits.js";
import type { FleetStore } from "./fleet-store.js";

interface PendingAck {
  commandId: string;
  nodeId: string;
  ok: boolean;
  error: { code: string; message: string } | null;
  atMs: number;
}

interface PendingReport {
  nodeId: string;
  atMs: number;
  receivedAtMs: number;
  reportJson: string;
}

export class WriteBehind {
  readonly #acks = new Map<string, PendingAck>();
  readonly #touches = new Map<string, number>();
  #reports: PendingReport[] = [];
  #timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly store: FleetStore,
    private readonly storage: DurableObjectStorage,
  ) {}

  /** Whether an ack for this command is already waiting to be written. */
  hasAck(commandId: string): boolean {
    return this.#acks.has(commandId);
  }

  ack(ack: PendingAck): void {
    this.#acks.set(ack.commandId, ack);
    this.#schedule();
  }

  touch(nodeId: string, atMs: number): void {
    this.#touches.set(nodeId, atMs);
    this.#schedule();
  }

  telemetry(report: PendingReport): void {
    this.#reports.push(report);
    this.#schedule();
  }

  /** Writes everything pending in one transaction. */
  flush(): void {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    if (this.#acks.size === 0 && this.#touches.size === 0 && this.#reports.length === 0) return;
    const acks = [...this.#acks.values()];
    const touches = [...this.#touches];
    const reports = this.#reports;
    this.#acks.clear();
    this.#touches.clear();
    this.#reports = [];
    this.storage.transactionSync(() => {
      for (const a of acks)
        this.store.commands.settleWithAck(a.commandId, a.nodeId, a.ok, a.error, a.atMs);
      for (const [nodeId, atMs] of touches) this.store.nodes.touch(nodeId, atMs);
      for (const r of reports)
        this.store.history.addTelemetry(r.nodeId, r.atMs, r.receivedAtMs, r.reportJson);
    });
  }

  #schedule(): void {
    this.#timer ??= setTimeout(() => {
      this.#timer = null;
      this.flush();
    }, FLEET_OBJECT_LIMITS.writeBehindMs);
  }
}
