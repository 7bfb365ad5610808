/**
 * Scheduler-policy tools: search the repository, read a policy with its versions and
 * verification results, submit a policy or a new version through the static checks, and record
 * how a version did, and send a checked version to a verifier node. Thin adapters over the calls the HTTPS routes make
 * (src/schedcp/policy-reads.ts and policy-writes.ts); a refusal of the static checks is a tool error that names each
 * field and source line at fault.
 */

import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { MAX_PAGE_LIMIT, PageQuerySchema } from "../../api/schemas.js";
import {
  OutcomeSchema,
  PolicyCreateRequestSchema,
  PolicyListQuerySchema,
  SchedPolicyCreatedSchema,
  SchedPolicyPageSchema,
  SchedPolicySchema,
  SchedVersionCreatedSchema,
  SchedVersionDetailSchema,
  SchedVersionSchema,
  VerifyRequestSchema,
  VerifyStartedSchema,
  VersionCreateRequestSchema,
} from "../../api/schemas-sched.js";
import { OutcomeFields } from "../../schedcp/outcome.js";
import { getVersionAs, listPoliciesAs, policyDetailAs } from "../../schedcp/policy-reads.js";
import { createPolicyAs, createVersionAs, recordOutcomeAs } from "../../schedcp/policy-writes.js";
import { PolicyVersionSchema, SchedPolicyIdSchema } from "../../schedcp/protocol/index.js";
import { verifyVersionAs } from "../../schedcp/verify-calls.js";
import type { McpContext } from "../context.js";
import { READ_ONLY, runTool } from "./run.js";

const WRITES = {
  readOnlyHint: false,
  destructiveHint: false,
  idempotentHint: false,
  openWorldHint: false,
} as const;

const PolicyIdArg = SchedPolicyIdSchema.meta({ description: "The policy's id, `spol_…`" });

/** Search results are fewer than other pages: each carries a policy's whole metadata. */
export const SEARCH_PAGE_DEFAULT = 10;
/** Versions `get_policy` lists unless asked for another number. */
export const POLICY_VERSIONS_DEFAULT = 10;

export const SearchPoliciesInput = z.strictObject({
  q: PolicyListQuerySchema.shape.q,
  tag: PolicyListQuerySchema.shape.tag,
  workload: PolicyListQuerySchema.shape.workload,
  limit: z
    .number()
    .int()
    .min(1)
    .max(MAX_PAGE_LIMIT)
    .default(SEARCH_PAGE_DEFAULT)
    .meta({ description: `Page size, 1 to ${MAX_PAGE_LIMIT}` }),
  cursor: PageQuerySchema.shape.cursor,
});

export const GetPolicyInput = z.strictObject({
  id: PolicyIdArg,
  version: PolicyVersionSchema.optional().meta({
    description: "The version to show in full (default the newest)",
  }),
  versions: z
    .number()
    .int()
    .min(1)
    .max(MAX_PAGE_LIMIT)
    .default(POLICY_VERSIONS_DEFAULT)
    .meta({ description: "How many of the newest versions to list" }),
  includeSource: z
    .boolean()
    .default(false)
    .meta({ description: "Include the version's BPF C source (up to 256 KiB)" }),
});

export const SubmitPolicyInput = z.strictObject(PolicyCreateRequestSchema.shape);

export const SubmitVersionInput = z.strictObject({
  id: PolicyIdArg,
  ...VersionCreateRequestSchema.shape,
});

export const RecordOutcomeInput = z.strictObject({
  id: PolicyIdArg,
  version: PolicyVersionSchema,
  ...OutcomeFields,
});

export const VerificationStatusInput = z.strictObject({
  id: PolicyIdArg,
  version: PolicyVersionSchema,
});

export const VerifyPolicyInput = z.strictObject({
  id: PolicyIdArg,
  version: PolicyVersionSchema,
  ...VerifyRequestSchema.shape,
});

export const VerificationStatusOutput = SchedVersionDetailSchema.pick({
  policyId: true,
  version: true,
  status: true,
  statusReason: true,
  objectSha256: true,
  signed: true,
  staticChecks: true,
  verification: true,
  quarantine: true,
}).shape;

export const GetPolicyOutput = {
  policy: SchedPolicySchema,
  versions: z.array(SchedVersionSchema),
  moreVersions: z.boolean(),
  version: SchedVersionDetailSchema.extend({
    source: z.string().nullable().meta({ description: "Null unless `includeSource`" }),
  }),
};

/**
 * Registers `search_policies`, `get_policy`, `verification_status`, `submit_policy`,
 * `submit_version`, `verify_policy` and `record_outcome` on `server`.
 *
 * @example registerPolicyTools(server, ctx)
 */
export function registerPolicyTools(server: McpServer, ctx: McpContext): void {
  server.registerTool(
    "search_policies",
    {
      title: "Search scheduler policies",
      description:
        "The sched_ext scheduler policies you can deploy: the built-ins and your tenant's own. `q` searches name, description, algorithm and use cases (best first); `tag` keeps a use case; `workload` keeps policies suited to a workload class (see workload_profile).",
      inputSchema: SearchPoliciesInput,
      outputSchema: SchedPolicyPageSchema.shape,
      annotations: READ_ONLY,
    },
    (args) =>
      runTool(ctx, "search_policies", {}, async () => {
        const page = await listPoliciesAs(ctx.env, ctx.db, ctx.caller.principal, args);
        const names = page.items.map((p) => p.name).join(", ");
        const more = page.nextCursor ? " (more: pass nextCursor as cursor)" : "";
        return {
          structured: page,
          summary: `${page.items.length} policies${names ? `: ${names}` : ""}${more}.`,
        };
      }),
  );

  server.registerTool(
    "get_policy",
    {
      title: "Get a scheduler policy",
      description:
        "A policy's metadata (algorithm, use cases, tunables with bounds, limitations), its newest versions, and one version in full: status, static-check diagnostics, the verifier's result (kernel log, loaded, tasks scheduled, clean unload), signature and quarantine.",
      inputSchema: GetPolicyInput,
      outputSchema: GetPolicyOutput,
      annotations: READ_ONLY,
    },
    (args) =>
      runTool(ctx, "get_policy", {}, async () => {
        const detail = await policyDetailAs(ctx.env, ctx.db, ctx.caller.principal, {
          id: args.id,
          version: args.version,
          versionsLimit: args.versions,
          includeSource: args.includeSource,
        });
        const v = detail.version;
        const verified = v.verification
          ? `verification ${v.verification.ok ? "passed" : "failed"}`
          : "not verified yet";
        return {
          structured: detail,
          summary: `${detail.policy.name} (${detail.policy.id}) version ${v.version} is ${v.status}, ${verified}.`,
        };
      }),
  );

  server.registerTool(
    "verification_status",
    {
      title: "A version's verification status",
      description:
        "Where a version stands: `checked` (passed the static checks, waiting for a verifier node), `verifying`, `verified`, `rejected`, `signed` or `quarantined`, with the static checks' diagnostics, the verifier's result (kernel verifier log, loaded, tasks scheduled, ejection, clean unload), the signature and any quarantine.",
      inputSchema: VerificationStatusInput,
      outputSchema: VerificationStatusOutput,
      annotations: READ_ONLY,
    },
    (args) =>
      runTool(ctx, "verification_status", {}, async () => {
        const v = await getVersionAs(ctx.env, ctx.db, ctx.caller.principal, {
          id: args.id,
          version: String(args.version),
        });
        const out = {
          policyId: v.policyId,
          version: v.version,
          status: v.status,
          statusReason: v.statusReason,
          objectSha256: v.objectSha256,
          signed: v.signed,
          staticChecks: v.staticChecks,
          verification: v.verification,
          quarantine: v.quarantine,
        };
        const result = v.verification
          ? `; the verifier ${v.verification.ok ? "passed" : "failed"} it (loaded ${v.verification.loaded}, ${v.verification.tasksScheduled} tasks scheduled)`
          : "";
        return {
          structured: out,
          summary: `${v.policyId} version ${v.version} is ${v.status}${v.statusReason ? ` (${v.statusReason})` : ""}${result}.`,
        };
      }),
  );

  server.registerTool(
    "submit_policy",
    {
      title: "Submit a scheduler policy",
      description:
        "A new policy: its metadata, BPF C source of a sched_ext scheduler and default parameters. The static checks run at once (one struct sched_ext_ops named `opsName`, allowed includes, allow-listed helpers and kfuncs only, tunables' bounds); a failure is a tool error naming each field and source line at fault, and nothing is stored. Passing, it is stored as version 1, `checked`, waiting for verification.",
      inputSchema: SubmitPolicyInput,
      outputSchema: SchedPolicyCreatedSchema.shape,
      annotations: WRITES,
    },
    (args) =>
      runTool(ctx, "submit_policy", {}, async () => {
        const created = await createPolicyAs(ctx.env, ctx.db, ctx.caller.principal, args);
        return {
          structured: created,
          summary: `Stored ${created.policy.name} as ${created.policy.id} version 1, ${created.version.status}.`,
          target: created.policy.id,
          detail: { name: created.policy.name, version: 1 },
        };
      }),
  );

  server.registerTool(
    "submit_version",
    {
      title: "Submit a new version of a policy",
      description:
        "A new version of one of your tenant's policies (built-ins are read-only: submit your own from their source), derived from `parentVersion` or the newest, checked like submit_policy.",
      inputSchema: SubmitVersionInput,
      outputSchema: SchedVersionCreatedSchema.shape,
      annotations: WRITES,
    },
    (args) =>
      runTool(ctx, "submit_version", { id: args.id }, async () => {
        const version = await createVersionAs(ctx.env, ctx.db, ctx.caller.principal, args);
        return {
          structured: version,
          summary: `Stored ${version.policyId} version ${version.version} (parent ${version.parentVersion}), ${version.status}.`,
          target: version.policyId,
          detail: { version: version.version, parentVersion: version.parentVersion },
        };
      }),
  );

  server.registerTool(
    "verify_policy",
    {
      title: "Verify a policy version",
      description:
        "Sends a `checked` version of one of your tenant's policies to a connected verifier node, which compiles it, loads it into a real sched_ext kernel in a throwaway VM, runs a workload under it and unloads it. The version is `verifying` until the result comes back; then `signed` (deployable) or `rejected` with the reason: follow it with verification_status. Built-ins are verified as your own copy (submit_policy with their source). No verifier connected: a tool error, and the version stays `checked`.",
      inputSchema: VerifyPolicyInput,
      outputSchema: VerifyStartedSchema.shape,
      annotations: WRITES,
    },
    (args) =>
      runTool(ctx, "verify_policy", { id: args.id }, async () => {
        const started = await verifyVersionAs(ctx.env, ctx.db, ctx.caller.principal, {
          ...args,
          version: String(args.version),
        });
        return {
          structured: { ...started },
          summary: `Sent ${started.policyId} version ${started.version} to verifier ${started.nodeId} (job ${started.jobId}); it is verifying until ${started.deadlineAt}.`,
          target: started.policyId,
          detail: { version: started.version, jobId: started.jobId, nodeId: started.nodeId },
        };
      }),
  );

  server.registerTool(
    "record_outcome",
    {
      title: "Record a policy's outcome",
      description:
        "How a version did on a node or label group: the workload class, metrics before and after, and the outcome (improved, neutral, regressed, rolled_back). Recommendations weigh these.",
      inputSchema: RecordOutcomeInput,
      outputSchema: OutcomeSchema.shape,
      annotations: WRITES,
    },
    (args) =>
      runTool(ctx, "record_outcome", { id: args.id }, async () => {
        const record = await recordOutcomeAs(ctx.env, ctx.db, ctx.caller.principal, {
          ...args,
          version: String(args.version),
        });
        return {
          structured: record,
          summary: `Recorded ${record.outcome} for ${record.policyId}@${record.version} on ${record.target} (${record.workloadClass}).`,
          target: record.policyId,
          detail: { version: record.version, target: record.target, outcome: record.outcome },
        };
      }),
  );
}
