/**
 * A tenant's Cedar policies: listed with the built-in defaults, written whole (validated against
 * the schema first: an invalid text is rejected with Cedar's diagnostics and nothing is stored),
 * deleted, and tried out with a dry-run evaluation. Admins write; operators may also evaluate;
 * any tenant key may read.
 */

import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import { newId } from "../../kernel/ids.js";
import { CapabilityNameSchema } from "../../kernel/process/record.js";
import { type PolicyRequest, RISK_LEVELS } from "../../kernel/syscall/policy.js";
import { invalidateGateContext } from "../../objects/gate-context.js";
import {
  BUILTIN_POLICY_IDS,
  DEFAULT_POLICIES,
  MAX_POLICIES_PER_TENANT,
  MAX_POLICY_DESCRIPTION_CHARS,
  MAX_POLICY_TEXT_BYTES,
  POLICY_NAME_PATTERN,
  type PolicyDiagnostic,
  policyEngineFor,
  policyIdsOf,
  validatePolicies,
} from "../../policy/index.js";
import { PRINCIPAL_TYPES, RESOURCE_TYPES } from "../../policy/schema.js";
import { KEY_ROLES } from "../../store/api-keys.js";
import { deletePolicy, listPolicies, putPolicy, type StoredPolicy } from "../../store/policies.js";
import { ADMIN_ROLES, READ_ROLES, requireTenantKey, WRITE_ROLES } from "../authorize.js";
import type { AppEnv } from "../context.js";
import { BEARER, json, problems } from "../openapi.js";
import { ApiError } from "../problem.js";

export const policyRoutes = new OpenAPIHono<AppEnv>();

const encoder = new TextEncoder();

const PolicyNameSchema = z
  .string()
  .regex(POLICY_NAME_PATTERN, "lowercase letters, digits, `.`, `_` and `-`, at most 64");

const NameParam = z.object({
  name: PolicyNameSchema.meta({ param: { name: "name", in: "path" } }),
});

const PolicySchema = z
  .object({
    name: z.string(),
    description: z.string(),
    cedar: z.string(),
    builtin: z.boolean().meta({ description: "A default every tenant has; it cannot be changed" }),
    policyIds: z.array(z.string()).meta({
      description:
        "The ids decisions cite for this policy's statements: the name, or `name#<@id or position>` when it holds several",
    }),
    version: z.number().int().nullable(),
    createdAt: z.string().nullable(),
    updatedAt: z.string().nullable(),
  })
  .meta({ id: "Policy" });

const PolicyListSchema = z.object({ items: z.array(PolicySchema) }).meta({ id: "PolicyList" });

const PolicyDiagnosticSchema = z
  .object({
    code: z.string(),
    message: z.string(),
    help: z.string().nullable(),
    statement: z.number().int().nullable(),
    policyId: z.string().nullable(),
    line: z.number().int().nullable(),
    column: z.number().int().nullable(),
  })
  .meta({ id: "PolicyDiagnostic" });

const WrittenPolicySchema = PolicySchema.extend({
  warnings: z.array(PolicyDiagnosticSchema).meta({
    description: "Cedar's validation warnings (e.g. a policy that can never apply); not errors",
  }),
}).meta({ id: "WrittenPolicy" });

const PutPolicySchema = z
  .strictObject({
    description: z.string().max(MAX_POLICY_DESCRIPTION_CHARS).default(""),
    cedar: z
      .string()
      .min(1)
      .max(MAX_POLICY_TEXT_BYTES)
      .superRefine((text, ctx) => {
        // `.max` counts UTF-16 units; the limit is on UTF-8 bytes, which are never fewer.
        const bytes = encoder.encode(text).length;
        if (bytes > MAX_POLICY_TEXT_BYTES) {
          ctx.addIssue({
            code: "too_big",
            origin: "string",
            maximum: MAX_POLICY_TEXT_BYTES,
            inclusive: true,
            input: text,
            message: `the text is ${bytes} UTF-8 bytes; the limit is ${MAX_POLICY_TEXT_BYTES}`,
          });
        }
      })
      .meta({
        description: `Cedar policy text: one to several \`permit\`/\`forbid\` statements, at most ${MAX_POLICY_TEXT_BYTES} UTF-8 bytes`,
      }),
  })
  .meta({ id: "PutPolicyRequest" });

const EvaluateSchema = z
  .strictObject({
    principal: z.discriminatedUnion("type", [
      z.strictObject({
        type: z.literal(PRINCIPAL_TYPES[0]),
        id: z.string().min(1).max(128),
        agentType: z.string().min(1).max(64),
      }),
      z.strictObject({
        type: z.literal(PRINCIPAL_TYPES[1]),
        id: z.string().min(1).max(128),
        role: z.enum(KEY_ROLES),
      }),
    ]),
    capability: CapabilityNameSchema,
    resource: z
      .strictObject({ type: z.enum(RESOURCE_TYPES), id: z.string().min(1).max(256) })
      .optional()
      .meta({ description: "What the call acts on; default the caller's tenant" }),
    context: z.strictObject({
      risk: z.enum(RISK_LEVELS),
      entitled: z.boolean(),
      explicitGrant: z.boolean().default(false),
      approved: z.boolean().default(false),
      budgetTokensLeft: z
        .number()
        .int()
        .default(Number.MAX_SAFE_INTEGER)
        .meta({ description: "Default: no budget limit" }),
      hourOfDayUtc: z
        .number()
        .int()
        .min(0)
        .max(23)
        .optional()
        .meta({ description: "Default: the current hour" }),
      dataLabels: z.array(z.string().min(1).max(64)).max(32).default([]),
    }),
  })
  .meta({ id: "PolicyEvaluationRequest" });

const EvaluationSchema = z
  .object({
    effect: z.enum(["allow", "deny", "require_approval"]),
    policyIds: z.array(z.string()).meta({
      description: "The policies that decided; a deny citing none means no policy permits the call",
    }),
    errors: z.array(z.string()),
    request: z.unknown().meta({ description: "The request as evaluated, defaults filled in" }),
  })
  .meta({ id: "PolicyEvaluation" });

const iso = (ms: number) => new Date(ms).toISOString();

function storedView(p: StoredPolicy) {
  return {
    name: p.name,
    description: p.description,
    cedar: p.cedarText,
    builtin: false,
    policyIds: policyIdsOf(p.cedarText, p.name),
    version: p.version,
    createdAt: iso(p.createdAtMs),
    updatedAt: iso(p.updatedAtMs),
  };
}

const builtinViews = DEFAULT_POLICIES.map((p) => ({
  name: p.id,
  description: p.description,
  cedar: p.text,
  builtin: true,
  policyIds: [p.id],
  version: null,
  createdAt: null,
  updatedAt: null,
}));

function where(d: PolicyDiagnostic): string {
  const at = d.line === null ? [] : [`line ${d.line}, column ${d.column}`];
  if (d.policyId && !d.message.includes(d.policyId)) at.push(`policy ${d.policyId}`);
  return at.length > 0 ? `${at.join(", ")}: ` : "";
}

/** Cedar's diagnostics as a 422: one field error per diagnostic, plus the structured list. */
function rejected(diagnostics: PolicyDiagnostic[]): ApiError {
  const errors = diagnostics.map((d) => ({
    path: "cedar",
    message: `${where(d)}${d.message}${d.help ? ` (help: ${d.help})` : ""}`,
    code: d.code,
  }));
  return new ApiError("validation_failed", `cedar: ${errors[0]?.message ?? "invalid policy"}`, {
    errors,
    extra: { in: "body", diagnostics },
  });
}

policyRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/access-policies",
    tags: ["access policies"],
    summary: "List the tenant's Cedar policies, after the built-in defaults every tenant has",
    security: BEARER,
    responses: { 200: json(PolicyListSchema, "The policies"), ...problems(401, 403) },
  }),
  async (c) => {
    const principal = requireTenantKey(c.var.principal, READ_ROLES);
    const stored = await listPolicies(c.var.db, principal.tenantId);
    return c.json({ items: [...builtinViews, ...stored.map(storedView)] }, 200);
  },
);

policyRoutes.openapi(
  createRoute({
    method: "put",
    path: "/v1/access-policies/{name}",
    tags: ["access policies"],
    summary:
      "Create or replace a policy; its whole text is validated against the Cedar schema first, and an invalid one stores nothing",
    security: BEARER,
    request: {
      params: NameParam,
      body: { content: { "application/json": { schema: PutPolicySchema } }, required: true },
    },
    responses: {
      200: json(WrittenPolicySchema, "Replaced (version bumped)"),
      201: json(WrittenPolicySchema, "Created"),
      ...problems(400, 401, 403, 409, 413, 415, 422),
    },
  }),
  async (c) => {
    const principal = requireTenantKey(c.var.principal, ADMIN_ROLES);
    const { name } = c.req.valid("param");
    const body = c.req.valid("json");
    c.var.audit.target = name;
    if (BUILTIN_POLICY_IDS.has(name)) {
      throw new ApiError("conflict", `${name} is a built-in policy; choose another name`, {
        extra: { field: "name" },
      });
    }
    const checked = validatePolicies(body.cedar, name);
    if (!checked.ok) throw rejected(checked.diagnostics);
    const outcome = await putPolicy(
      c.var.db,
      {
        id: newId("policy"),
        tenantId: principal.tenantId,
        name,
        description: body.description,
        cedarText: body.cedar,
      },
      Date.now(),
      MAX_POLICIES_PER_TENANT,
    );
    invalidateGateContext(principal.tenantId);
    if (outcome.kind === "limit") {
      throw new ApiError(
        "conflict",
        `a tenant holds at most ${MAX_POLICIES_PER_TENANT} policies; delete one first`,
      );
    }
    const policyIds = checked.statements.map((s) => s.id);
    c.var.audit.detail = { version: outcome.policy.version, policyIds };
    return c.json(
      { ...storedView(outcome.policy), warnings: checked.warnings },
      outcome.kind === "created" ? 201 : 200,
    );
  },
);

policyRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/v1/access-policies/{name}",
    tags: ["access policies"],
    summary: "Delete a policy; it stops applying from the next call",
    security: BEARER,
    request: { params: NameParam },
    responses: {
      200: json(PolicySchema, "The deleted policy"),
      ...problems(401, 403, 404, 409, 422),
    },
  }),
  async (c) => {
    const principal = requireTenantKey(c.var.principal, ADMIN_ROLES);
    const { name } = c.req.valid("param");
    c.var.audit.target = name;
    if (BUILTIN_POLICY_IDS.has(name)) {
      throw new ApiError("conflict", `${name} is a built-in policy and cannot be deleted`);
    }
    const deleted = await deletePolicy(c.var.db, principal.tenantId, name);
    if (!deleted) throw new ApiError("not_found", `no policy ${name}`);
    invalidateGateContext(principal.tenantId);
    c.var.audit.detail = { version: deleted.version };
    return c.json(storedView(deleted), 200);
  },
);

policyRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/access-policies/evaluate",
    tags: ["access policies"],
    summary:
      "Dry run: decide a system call against the tenant's policies (and the defaults) without making it",
    security: BEARER,
    request: {
      body: { content: { "application/json": { schema: EvaluateSchema } }, required: true },
    },
    responses: {
      200: json(EvaluationSchema, "The decision and the policies that made it"),
      ...problems(400, 401, 403, 413, 415, 422),
    },
  }),
  async (c) => {
    const principal = requireTenantKey(c.var.principal, WRITE_ROLES);
    const body = c.req.valid("json");
    const p = body.principal;
    const request: PolicyRequest = {
      tenantId: principal.tenantId,
      principal:
        p.type === "Process"
          ? { type: "Process", id: p.id, agentType: p.agentType, role: null }
          : { type: "Key", id: p.id, agentType: null, role: p.role },
      capability: body.capability,
      resource: body.resource ?? { type: "Tenant", id: principal.tenantId },
      context: {
        ...body.context,
        hourOfDayUtc: body.context.hourOfDayUtc ?? new Date().getUTCHours(),
      },
    };
    const engine = await policyEngineFor(c.var.db, principal.tenantId);
    return c.json({ ...engine.decide(request), request }, 200);
  },
);
