/**
 * System calls a process makes through a client: a program or hosted LLM client holding the
 * process's agent key acts as that process. Each such call meets the gate the agent loop's own
 * tool calls meet, inside the process's object — its capabilities, its tool-call budget (the
 * call counts), its entitlements' rate limits and the tenant's policies with the process as
 * principal — and is recorded in its event log under its id.
 *
 * A call that policy would park for a person is refused (`approval_required`): the client's
 * request cannot wait hours for an answer, and the process's own loop is not the one asking.
 */

import { isTerminal } from "../kernel/process/state.js";
import { callsInLastMinute, matchEntitlement } from "../kernel/syscall/entitlement.js";
import { gate } from "../kernel/syscall/gate.js";
import type { PolicyRequest } from "../kernel/syscall/policy.js";
import { openDb } from "../store/db.js";
import type { LoopHost } from "./agent-loop.js";
import { gateContextFor, grantsFor } from "./gate-context.js";
import { logCall } from "./syscalls.js";

export interface CallerSyscall {
  /** The capability called (`proc.spawn`, `ws.write`, …). */
  capability: string;
  resource: PolicyRequest["resource"];
  /** The key the client holds, for the event log. */
  keyId: string;
}

export type CallerSyscallResult =
  | { ok: true; policyIds: string[] }
  | {
      ok: false;
      code:
        | "not_found"
        | "process_ended"
        | "unknown_call"
        | "capability_denied"
        | "budget_exhausted"
        | "rate_limited"
        | "policy_denied"
        | "approval_required";
      reason: string;
      policyIds: string[];
    };

/**
 * Decides `call` for the process in `h` and, when allowed, counts it (one tool call) and logs
 * it for rate limiting; every decision lands in the event log.
 */
export async function gateCallerSyscall(
  h: LoopHost,
  tenantId: string,
  call: CallerSyscall,
): Promise<CallerSyscallResult> {
  const record = h.store.load();
  if (!record || record.tenantId !== tenantId) {
    return { ok: false, code: "not_found", reason: "no such process", policyIds: [] };
  }
  if (isTerminal(record.status)) {
    return {
      ok: false,
      code: "process_ended",
      reason: `the process has ended (${record.status}) and makes no more system calls`,
      policyIds: [],
    };
  }
  const nowMs = Date.now();
  const ctx = await gateContextFor(openDb(h.processEnv.DB), tenantId, nowMs);
  const cap = ctx.capabilities.get(call.capability);
  const decision = gate({
    record,
    name: call.capability,
    capability: cap ? { risk: cap.risk } : undefined,
    counted: true,
    callsThisStep: 0,
    entitlement: matchEntitlement(
      call.capability,
      cap?.risk ?? "critical",
      cap?.provider === "builtin",
      grantsFor(ctx.grants, record.type.name),
    ),
    callsLastMinute: callsInLastMinute(
      h.store.getKv<number[]>(`calls:${call.capability}`) ?? [],
      nowMs,
    ),
    policy: ctx.policy,
    approved: false,
    resource: call.resource,
    dataLabels: [],
    nowMs,
  });
  const cited = decision.policyIds.length > 0 ? ` [${decision.policyIds.join(", ")}]` : "";
  const verdict = decision.allow
    ? "allow"
    : decision.approval
      ? "approval required, refused: a client's call cannot wait"
      : `deny (${decision.reason})`;
  const event = {
    atMs: nowMs,
    event: "syscall" as const,
    from: record.status,
    to: record.status,
    actor: record.id,
    reason: `${call.capability} via agent key ${call.keyId}: ${verdict}${cited}`,
  };
  if (!decision.allow) {
    await h.commit({ record: { ...record, version: record.version + 1 }, events: [event] });
    if (decision.approval) {
      return {
        ok: false,
        code: "approval_required",
        reason: decision.reason,
        policyIds: decision.policyIds,
      };
    }
    return {
      ok: false,
      code: decision.code,
      reason: decision.reason,
      policyIds: decision.policyIds,
    };
  }
  const counted = {
    ...record,
    usage: { ...record.usage, toolCalls: record.usage.toolCalls + 1 },
    version: record.version + 1,
  };
  await h.commit({ record: counted, events: [event] }, () => logCall(h, call.capability, nowMs));
  return { ok: true, policyIds: decision.policyIds };
}
