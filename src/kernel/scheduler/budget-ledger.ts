/**
 * Per-process token accounts for budget enforcement: what a process may spend, has spent, and
 * has reserved for leases in flight. Reserving at dispatch is what stops parallel calls of one
 * process (a tree search fanning out) from jointly overspending.
 */

import { z } from "zod";
import type { SchedTask } from "./types.js";

export interface Account {
  budgetTokens: number | null;
  spentTokens: number;
  reservedTokens: number;
}

export const LedgerStateSchema = z.object({
  accounts: z.array(
    z.object({
      processId: z.string(),
      budgetTokens: z.number().int().min(0).nullable(),
      spentTokens: z.number().min(0),
      reservedTokens: z.number().min(0),
    }),
  ),
  reservations: z.array(
    z.object({ taskId: z.string(), processId: z.string(), tokens: z.number().min(0) }),
  ),
});
export type LedgerState = z.infer<typeof LedgerStateSchema>;

/** Token accounts keyed by process. */
export class BudgetLedger {
  private readonly accounts = new Map<string, Account>();
  private readonly reservations = new Map<string, { processId: string; tokens: number }>();
  /** The reservations of each process, so forgetting one does not scan every lease in flight. */
  private readonly reservationsOf = new Map<string, Set<string>>();

  /**
   * Merges what a request says about its process: the budget it carries wins (it may have been
   * raised), and spending only ever grows, so a policy switch or a lost ledger cannot forget it.
   */
  observe(task: SchedTask): Account {
    let account = this.accounts.get(task.processId);
    if (!account) {
      account = {
        budgetTokens: task.budgetTokens,
        spentTokens: task.spentTokens,
        reservedTokens: 0,
      };
      this.accounts.set(task.processId, account);
    } else {
      account.budgetTokens = task.budgetTokens;
      account.spentTokens = Math.max(account.spentTokens, task.spentTokens);
    }
    return account;
  }

  account(processId: string): Account | undefined {
    return this.accounts.get(processId);
  }

  /** Tokens a process may still commit: budget − spent − reserved (Infinity with no budget). */
  free(processId: string): number {
    const a = this.accounts.get(processId);
    if (!a || a.budgetTokens === null) return Number.POSITIVE_INFINITY;
    return a.budgetTokens - a.spentTokens - a.reservedTokens;
  }

  /**
   * Holds `tokens` of the process's budget for a lease until `settle`. Reserving again for the
   * same request replaces the earlier hold rather than adding to it.
   */
  reserve(task: SchedTask, tokens: number): void {
    const account = this.observe(task);
    const earlier = this.reservations.get(task.taskId);
    if (earlier) account.reservedTokens = Math.max(0, account.reservedTokens - earlier.tokens);
    account.reservedTokens += tokens;
    this.reservations.set(task.taskId, { processId: task.processId, tokens });
    this.index(task.processId, task.taskId);
  }

  /** Ends a lease: releases its reservation and books what it really used. */
  settle(task: SchedTask, usedTokens: number): void {
    const account = this.accounts.get(task.processId) ?? this.observe(task);
    const held = this.reservations.get(task.taskId);
    if (held) {
      this.reservations.delete(task.taskId);
      this.unindex(held.processId, task.taskId);
      account.reservedTokens = Math.max(0, account.reservedTokens - held.tokens);
    }
    account.spentTokens += usedTokens;
  }

  forget(processId: string): void {
    this.accounts.delete(processId);
    for (const taskId of this.reservationsOf.get(processId) ?? []) this.reservations.delete(taskId);
    this.reservationsOf.delete(processId);
  }

  exportState(): LedgerState {
    return {
      accounts: [...this.accounts].map(([processId, a]) => ({ processId, ...a })),
      reservations: [...this.reservations].map(([taskId, r]) => ({ taskId, ...r })),
    };
  }

  importState(state: LedgerState): void {
    this.accounts.clear();
    this.reservations.clear();
    this.reservationsOf.clear();
    for (const { processId, ...a } of state.accounts) this.accounts.set(processId, a);
    for (const { taskId, ...r } of state.reservations) {
      this.reservations.set(taskId, r);
      this.index(r.processId, taskId);
    }
  }

  private index(processId: string, taskId: string): void {
    const set = this.reservationsOf.get(processId);
    if (set) set.add(taskId);
    else this.reservationsOf.set(processId, new Set([taskId]));
  }

  private unindex(processId: string, taskId: string): void {
    const set = this.reservationsOf.get(processId);
    if (!set) return;
    set.delete(taskId);
    if (set.size === 0) this.reservationsOf.delete(processId);
  }
}
