/**
 * Scheduler policies (sched_ext, BPF C): the repository over HTTPS. Search and read the
 * built-ins and the tenant's own; submit a policy or a new version (checked at once by the
 * execution verifier's static stage); read versions with their check and verification results;
 * the rollout and performance history; lift a quarantine. Thin adapters over
 * src/schedcp/policy-reads.ts and policy-writes.ts.
 */

import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import {
  getPolicyAs,
  getVersionAs,
  listPoliciesAs,
  listVersionsAs,
  policyHistoryAs,
} from "../../schedcp/policy-reads.js";
import {
  clearQuarantineAs,
  createPolicyAs,
  createVersionAs,
  recordOutcomeAs,
} from "../../schedcp/policy-writes.js";
import { verifyVersionAs } from "../../schedcp/verify-calls.js";
import type { AppEnv } from "../context.js";
import { BEARER, json, problems } from "../openapi.js";
import {
  HistoryPageSchema,
  HistoryQuerySchema,
  OutcomeCreateRequestSchema,
  OutcomeSchema,
  PolicyCreateRequestSchema,
  PolicyListQuerySchema,
  SchedPolicyCreatedSchema,
  SchedPolicyIdParam,
  SchedPolicyPageSchema,
  SchedPolicySchema,
  SchedVersionCreatedSchema,
  SchedVersionDetailSchema,
  SchedVersionPageSchema,
  SchedVersionParam,
  SchedVersionSchema,
  VerifyRequestSchema,
  VerifyStartedSchema,
  VersionCreateRequestSchema,
  VersionListQuerySchema,
} from "../schemas-sched.js";

export const schedPolicyRoutes = new OpenAPIHono<AppEnv>();

const TAGS = ["scheduler policies"];
const CHECKED =
  "The execution verifier's static checks run at once (source size, one `struct sched_ext_ops` in `SEC(\".struct_ops.link\")` named as `opsName`, allowed includes, allow-listed helpers and kfuncs only, tunables' bounds and the parameters within them). When they find an error the answer is 422 `static_check_failed` with `diagnostics` (code, line, column, message) and nothing is stored; otherwise the version is stored `checked`, waiting for a verifier node.";

// ---------------------------------------------------------------------------------------------
// GET /v1/policies, POST /v1/policies

const listRoute = createRoute({
  method: "get",
  path: "/v1/policies",
  tags: TAGS,
  summary: "Search and list scheduler policies: the built-ins and the tenant's own",
  description:
    "With `q`, the best matches first (FTS5, bm25) over name, description, algorithm and use cases; FTS syntax in `q` is not interpreted. Without it, by name. `tag` keeps policies with that use case, `workload` those whose use cases suit a workload class.",
  security: BEARER,
  request: { query: PolicyListQuerySchema },
  responses: {
    200: json(SchedPolicyPageSchema, "One page of policies"),
    ...problems(401, 403, 422),
  },
});

schedPolicyRoutes.openapi(listRoute, async (c) => {
  return c.json(await listPoliciesAs(c.env, c.var.db, c.var.principal, c.req.valid("query")), 200);
});

const createRouteDef = createRoute({
  method: "post",
  path: "/v1/policies",
  tags: TAGS,
  summary: "Submit a scheduler policy: metadata, BPF C source and default parameters (version 1)",
  description: CHECKED,
  security: BEARER,
  request: {
    body: {
      content: { "application/json": { schema: PolicyCreateRequestSchema } },
      required: true,
    },
  },
  responses: {
    201: json(SchedPolicyCreatedSchema, "The policy and its version 1, `checked`"),
    ...problems(400, 401, 403, 409, 413, 415, 422),
  },
});

schedPolicyRoutes.openapi(createRouteDef, async (c) => {
  const body = c.req.valid("json");
  c.var.audit.detail = { name: body.name };
  const created = await createPolicyAs(c.env, c.var.db, c.var.principal, body);
  c.var.audit.target = created.policy.id;
  c.var.audit.detail = {
    name: created.policy.name,
    version: 1,
    sourceSha256: created.version.sourceSha256,
  };
  c.header("location", `/v1/policies/${created.policy.id}`);
  return c.json(created, 201);
});

// ---------------------------------------------------------------------------------------------
// GET /v1/policies/{id}

const getRoute = createRoute({
  method: "get",
  path: "/v1/policies/{id}",
  tags: TAGS,
  summary: "A scheduler policy",
  security: BEARER,
  request: { params: SchedPolicyIdParam },
  responses: { 200: json(SchedPolicySchema, "The policy"), ...problems(401, 403, 404) },
});

schedPolicyRoutes.openapi(getRoute, async (c) => {
  return c.json(await getPolicyAs(c.env, c.var.db, c.var.principal, c.req.valid("param")), 200);
});

// ---------------------------------------------------------------------------------------------
// Versions

const versionsRoute = createRoute({
  method: "get",
  path: "/v1/policies/{id}/versions",
  tags: TAGS,
  summary: "A policy's versions, newest first",
  security: BEARER,
  request: { params: SchedPolicyIdParam, query: VersionListQuerySchema },
  responses: {
    200: json(SchedVersionPageSchema, "One page of versions"),
    ...problems(401, 403, 404, 422),
  },
});

schedPolicyRoutes.openapi(versionsRoute, async (c) => {
  const { id } = c.req.valid("param");
  return c.json(
    await listVersionsAs(c.env, c.var.db, c.var.principal, { id, ...c.req.valid("query") }),
    200,
  );
});

const createVersionRoute = createRoute({
  method: "post",
  path: "/v1/policies/{id}/versions",
  tags: TAGS,
  summary: "Submit a new version of one of the tenant's policies",
  description: `Its parent is \`parentVersion\`, or the newest version. Metadata fields given here update the policy. Built-in policies are read-only (403). ${CHECKED}`,
  security: BEARER,
  request: {
    params: SchedPolicyIdParam,
    body: {
      content: { "application/json": { schema: VersionCreateRequestSchema } },
      required: true,
    },
  },
  responses: {
    201: json(SchedVersionCreatedSchema, "The new version, `checked`"),
    ...problems(400, 401, 403, 404, 409, 413, 415, 422),
  },
});

schedPolicyRoutes.openapi(createVersionRoute, async (c) => {
  const { id } = c.req.valid("param");
  c.var.audit.target = id;
  const version = await createVersionAs(c.env, c.var.db, c.var.principal, {
    id,
    ...c.req.valid("json"),
  });
  c.var.audit.detail = {
    version: version.version,
    parentVersion: version.parentVersion,
    sourceSha256: version.sourceSha256,
  };
  c.header("location", `/v1/policies/${id}/versions/${version.version}`);
  return c.json(version, 201);
});

const versionRoute = createRoute({
  method: "get",
  path: "/v1/policies/{id}/versions/{version}",
  tags: TAGS,
  summary: "One version: its source, static-check diagnostics and verification result",
  security: BEARER,
  request: { params: SchedVersionParam },
  responses: { 200: json(SchedVersionDetailSchema, "The version"), ...problems(401, 403, 404) },
});

schedPolicyRoutes.openapi(versionRoute, async (c) => {
  return c.json(await getVersionAs(c.env, c.var.db, c.var.principal, c.req.valid("param")), 200);
});

const clearRoute = createRoute({
  method: "post",
  path: "/v1/policies/{id}/versions/{version}/clear-quarantine",
  tags: TAGS,
  summary: "Lift the circuit breaker's quarantine of a version for this tenant",
  description:
    "A version that failed on too many of the tenant's nodes is quarantined and refuses new rollouts. Clearing it forgets those failures; 409 when it is not quarantined.",
  security: BEARER,
  request: { params: SchedVersionParam },
  responses: {
    200: json(SchedVersionSchema, "The version, no longer quarantined"),
    ...problems(401, 403, 404, 409),
  },
});

schedPolicyRoutes.openapi(clearRoute, async (c) => {
  const params = c.req.valid("param");
  c.var.audit.target = params.id;
  c.var.audit.detail = { version: params.version };
  return c.json(await clearQuarantineAs(c.env, c.var.db, c.var.principal, params), 200);
});

const verifyRoute = createRoute({
  method: "post",
  path: "/v1/policies/{id}/versions/{version}/verify",
  tags: TAGS,
  summary: "Send a checked version to a verifier node: compile, load, run and unload it in a VM",
  description:
    "Explicit, not a side effect of submitting. The version must be `checked` and the tenant's own (a built-in is verified as your own copy). It goes to a connected, idle verifier node of the tenant, which compiles it with clang against a sched_ext kernel, boots that kernel in a throwaway qemu VM, loads the object through the node's deploy module, runs a workload under it, unloads it, uploads the object and reports. The version is `verifying` until then; `verified` and `signed` (Ed25519 over the assignment payload, valid 30 days) only if the VM stage passed and the uploaded object passes the control plane's own allow-list check, else `rejected` with the reason. No answer within `timeoutMs`: back to `checked`. No verifier connected, or none takes it: 503, the version stays `checked`.",
  security: BEARER,
  request: {
    params: SchedVersionParam,
    body: { content: { "application/json": { schema: VerifyRequestSchema } }, required: false },
  },
  responses: {
    202: json(VerifyStartedSchema, "The job, sent to a verifier"),
    ...problems(400, 401, 403, 404, 409, 415, 422, 503),
  },
});

schedPolicyRoutes.openapi(verifyRoute, async (c) => {
  const params = c.req.valid("param");
  const body = (await c.req.text()) === "" ? {} : c.req.valid("json");
  c.var.audit.target = params.id;
  c.var.audit.detail = { version: params.version };
  const started = await verifyVersionAs(c.env, c.var.db, c.var.principal, { ...params, ...body });
  c.var.audit.detail = { version: started.version, jobId: started.jobId, nodeId: started.nodeId };
  return c.json(started, 202);
});

// ---------------------------------------------------------------------------------------------
// History

const historyRoute = createRoute({
  method: "get",
  path: "/v1/policies/{id}/history",
  tags: TAGS,
  summary: "A policy's rollout transitions and performance records in this tenant, newest first",
  security: BEARER,
  request: { params: SchedPolicyIdParam, query: HistoryQuerySchema },
  responses: {
    200: json(HistoryPageSchema, "One page of history"),
    ...problems(401, 403, 404, 422),
  },
});

schedPolicyRoutes.openapi(historyRoute, async (c) => {
  const { id } = c.req.valid("param");
  return c.json(
    await policyHistoryAs(c.env, c.var.db, c.var.principal, { id, ...c.req.valid("query") }),
    200,
  );
});

// ---------------------------------------------------------------------------------------------
// Outcomes

const outcomeRoute = createRoute({
  method: "post",
  path: "/v1/policies/{id}/versions/{version}/outcomes",
  tags: TAGS,
  summary: "Record how a version did on a node or a label group",
  description:
    "The performance history the recommendations read: improvements count for the policy on that workload class, regressions and rollbacks against it. `target` is `{ nodeId }` (a node of the tenant, else 404) or `{ selector: { labels, role? } }`.",
  security: BEARER,
  request: {
    params: SchedVersionParam,
    body: {
      content: { "application/json": { schema: OutcomeCreateRequestSchema } },
      required: true,
    },
  },
  responses: {
    201: json(OutcomeSchema, "The record"),
    ...problems(400, 401, 403, 404, 413, 415, 422),
  },
});

schedPolicyRoutes.openapi(outcomeRoute, async (c) => {
  const params = c.req.valid("param");
  c.var.audit.target = params.id;
  const record = await recordOutcomeAs(c.env, c.var.db, c.var.principal, {
    ...params,
    ...c.req.valid("json"),
  });
  c.var.audit.detail = {
    version: record.version,
    target: record.target,
    outcome: record.outcome,
    recordId: record.id,
  };
  return c.json(record, 201);
});
