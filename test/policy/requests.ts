/** A policy request for tests: an entitled, low-risk call by a process, with overrides. */

import type { PolicyRequest } from "../../src/kernel/syscall/policy.js";

export function request(
  over: Partial<Omit<PolicyRequest, "context">> & {
    context?: Partial<PolicyRequest["context"]>;
  } = {},
): PolicyRequest {
  return {
    tenantId: over.tenantId ?? "ten_test",
    principal: over.principal ?? {
      type: "Process",
      id: "proc_1",
      agentType: "assistant",
      role: null,
    },
    capability: over.capability ?? "proc.spawn",
    resource: over.resource ?? { type: "Tenant", id: over.tenantId ?? "ten_test" },
    context: {
      risk: "low",
      entitled: true,
      explicitGrant: false,
      approved: false,
      budgetTokensLeft: 10_000,
      hourOfDayUtc: 12,
      dataLabels: [],
      ...over.context,
    },
  };
}
