/**
 * Budget checks: whether a process may take another step. (Tool calls are counted at the gate,
 * which refuses the call past `maxToolCalls`; see kernel/syscall.) Checked before every lease request
 * and after every step, so a process overshoots a limit by at most the step that crossed it
 * (one quantum: the lease's input plus its output cap).
 */

import type { ProcessRecord } from "./record.js";

/**
 * Why the process's budget is spent, or null while it may go on.
 *
 * @example budgetExhaustion(record, Date.now()) // "token budget of 1000 spent (1012 used)"
 */
export function budgetExhaustion(record: ProcessRecord, nowMs: number): string | null {
  const { budget, usage } = record;
  const tokens = usage.tokensIn + usage.tokensOut;
  if (tokens >= budget.maxTokens)
    return `token budget of ${budget.maxTokens} spent (${tokens} used)`;
  if (usage.costMicroUsd > budget.maxCostMicroUsd) {
    return `cost budget of ${budget.maxCostMicroUsd} µUSD spent (${usage.costMicroUsd} used)`;
  }
  if (nowMs >= Date.parse(budget.deadlineAt))
    return `wall-clock deadline ${budget.deadlineAt} passed`;
  return null;
}

/** Tokens the process may still use (never negative). */
export function remainingTokens(record: ProcessRecord): number {
  return Math.max(0, record.budget.maxTokens - record.usage.tokensIn - record.usage.tokensOut);
}
