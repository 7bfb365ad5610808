/**
 * The system-call gate for calls a running process makes. Every tool call passes here before
 * it runs: is it a system call at all, does the process hold the capability, is there budget
 * left for it. The decision is recorded in the process's event log with its reason.
 * (Policies and human approval join this gate with the policy engine.)
 */

import type { ProcessRecord } from "../process/record.js";

export type GateDecision =
  | { allow: true; capability: string }
  | {
      allow: false;
      code: "unknown_call" | "capability_denied" | "budget_exhausted";
      reason: string;
    };

export interface SyscallSpec {
  /** The capability the call needs, or undefined when no such call exists. */
  capability: string | undefined;
  /** Whether the call counts against `maxToolCalls` (finishing does not: it is the exit). */
  counted: boolean;
}

/**
 * Decides one call of `name` by `record`, given the calls already made in this step.
 *
 * @example gate(record, "sleep", { capability: "proc.sleep", counted: true }, 0)
 */
export function gate(
  record: ProcessRecord,
  name: string,
  spec: SyscallSpec,
  callsThisStep: number,
): GateDecision {
  if (!spec.capability) {
    return { allow: false, code: "unknown_call", reason: `no system call named ${name}` };
  }
  if (!record.capabilities.includes(spec.capability)) {
    return {
      allow: false,
      code: "capability_denied",
      reason: `${name} needs capability ${spec.capability}, which this process does not hold`,
    };
  }
  if (spec.counted && record.usage.toolCalls + callsThisStep >= record.budget.maxToolCalls) {
    return {
      allow: false,
      code: "budget_exhausted",
      reason: `tool-call budget of ${record.budget.maxToolCalls} spent`,
    };
  }
  return { allow: true, capability: spec.capability };
}
