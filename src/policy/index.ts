/**
 * The policy engine, as the rest of the Worker uses it: Cedar (WebAssembly, loaded once per
 * isolate) behind the kernel's `PolicyEngine` contract. The gate calls `policyEngineFor`; the
 * policies API calls `validatePolicies` before it stores anything.
 */

import type { Db } from "../store/db.js";
import { engineFor } from "./cache.js";
import { workerdCedar } from "./cedar-wasm.js";
import {
  buildCedarEngine,
  type CedarEngine,
  type EngineOptions,
  type PolicySource,
} from "./engine.js";
import {
  type PolicyValidation,
  splitStatements,
  validatePolicies as validateWith,
} from "./validate.js";

export { BUILTIN_POLICY_IDS, type BuiltinPolicy, DEFAULT_POLICIES } from "./defaults.js";
export {
  type CedarEngine,
  type EngineOptions,
  PolicySetError,
  type PolicySource,
} from "./engine.js";
export * from "./limits.js";
export { CEDAR_SCHEMA } from "./schema.js";
export type {
  DiagnosticCode,
  PolicyDiagnostic,
  PolicyStatement,
  PolicyValidation,
} from "./validate.js";

/**
 * Checks Cedar text as the tenant policy `name` would be stored (parse, limits, schema). All
 * or nothing: one bad statement fails the whole text. `name` only shapes the ids reported.
 *
 * @example validatePolicies('forbid (principal, action, resource) when { context.risk == "medium" };', "no-medium")
 *   // { ok: true, statements: [{ id: "no-medium", effect: "forbid", … }], warnings: [] }
 */
export function validatePolicies(text: string, name = "policy"): PolicyValidation {
  return validateWith(workerdCedar(), text, name);
}

/**
 * The ids decisions cite for the statements of a stored policy (parsing only; no schema check).
 * Empty when the text does not parse.
 *
 * @example policyIdsOf('@id("a") permit (principal, action, resource); @id("b") forbid (principal, action, resource);', "p")
 *   // ["p#a", "p#b"]
 */
export function policyIdsOf(text: string, name: string): string[] {
  const split = splitStatements(workerdCedar(), text, name);
  return split.ok ? split.statements.map((s) => s.id) : [];
}

/**
 * An engine over the built-in policies plus `tenantPolicies`, parsed once. Each source's `id`
 * is what decisions cite (with `#n` or `#<@id>` per statement when it holds several).
 *
 * @example createCedarEngine([{ id: "no-pii", text: 'forbid (principal, action, resource) when { context.dataLabels.contains("pii") };' }])
 *   .decide(request) // { effect: "deny", policyIds: ["no-pii"], errors: [] }
 */
export function createCedarEngine(
  tenantPolicies: readonly PolicySource[],
  options: EngineOptions = {},
): CedarEngine {
  return buildCedarEngine(workerdCedar(), tenantPolicies, options);
}

/**
 * The tenant's engine for the system-call gate: cached per isolate and keyed by the tenant's
 * policy-set version, so the hot path costs one small D1 read and no parsing.
 *
 * @example const decision = (await policyEngineFor(db, tenantId)).decide(request)
 */
export function policyEngineFor(db: Db, tenantId: string): Promise<CedarEngine> {
  return engineFor(workerdCedar(), db, tenantId);
}
