/**
 * The fleet and scheduler-policy MCP tools against real D1, R2 and the tenant's Fleet object:
 * each answers what the HTTPS API answers for the same caller, refuses what the API refuses
 * (another tenant's node is missing, a reader writes nothing, no verifier is a clear error),
 * and an agent key acts as its process, whose capabilities decide. The registry holds the
 * control plane's capabilities at the risks src/schedcp/capabilities.ts names.
 */

import { describe, expect, it } from "vitest";
import { BUILTIN_POLICIES } from "../../src/schedcp/bpf/catalog.js";
import { SCHED_CAPABILITY_RISK } from "../../src/schedcp/capabilities.js";
import { catalogMetadata } from "../../src/schedcp/metadata.js";
import type { RolloutView } from "../../src/schedcp/rollout-calls.js";
import { connectHello, enroll, eventually, report } from "../fleet/helpers.js";
import { FakeNode, signedFifo } from "../fleet/rollout-helpers.js";
import { call, newTenant, spawn } from "../helpers.js";
import { connect, structured, text } from "./client.js";

describe("fleet and policy MCP tools", () => {
  it("observe the fleet as the HTTPS API shows it, scoped to the tenant", async () => {
    const t = await newTenant("mcp-fleet");
    const other = await newTenant("mcp-fleet-other");
    const node = await enroll(t, { nodeId: "web-1", tokenLabels: { tier: "web" } });
    await enroll(other, { nodeId: "theirs-1" });
    const socket = await connectHello(node.credential);
    for (let i = 0; i < 3; i++) {
      socket.send({ type: "telemetry", atMs: 1_700_000_000_000 + i * 10_000, report: report(40) });
    }
    await eventually(
      () =>
        call<{ window: { reports: number } }>("GET", "/v1/fleet/nodes/web-1/profile", {
          token: t.reader,
        }),
      (r) => r.body.window.reports === 3,
    );
    const client = await connect(t.reader);

    const listed = structured<{ items: Array<{ id: string }> }>(
      await client.callTool({ name: "list_nodes", arguments: { labels: { tier: "web" } } }),
    );
    const viaApi = await call<{ items: unknown[] }>("GET", "/v1/fleet/nodes?label=tier=web", {
      token: t.reader,
    });
    expect(listed).toEqual(viaApi.body);
    expect(listed.items.map((n) => n.id)).toEqual(["web-1"]);

    const got = await client.callTool({ name: "get_node", arguments: { id: "web-1" } });
    expect(structured(got)).toMatchObject({
      id: "web-1",
      status: "online",
      labels: { tier: "web" },
    });
    expect(text(got)).toContain("web-1");
    const foreign = await client.callTool({ name: "get_node", arguments: { id: "theirs-1" } });
    expect(foreign.isError).toBe(true);
    expect(text(foreign)).toMatch(/^not_found: /);

    const profile = structured<{ kind: string; window: { reports: number }; class: unknown }>(
      await client.callTool({ name: "workload_profile", arguments: { nodeId: "web-1" } }),
    );
    const profileApi = await call("GET", "/v1/fleet/nodes/web-1/profile", { token: t.reader });
    expect(profile).toEqual(profileApi.body);
    const group = structured<{ kind: string; target: string; nodes: Array<{ nodeId: string }> }>(
      await client.callTool({ name: "workload_profile", arguments: { labels: { tier: "web" } } }),
    );
    expect(group).toMatchObject({ kind: "group", target: "tier=web" });
    expect(group.nodes.map((n) => n.nodeId)).toEqual(["web-1"]);
    const both = await client.callTool({
      name: "workload_profile",
      arguments: { nodeId: "web-1", labels: { tier: "web" } },
    });
    expect(both.isError).toBe(true);
    expect(text(both)).toContain("nodeId");
    const tooMany = await client.callTool({
      name: "workload_profile",
      arguments: { nodeId: "web-1", reports: 0 },
    });
    expect(tooMany.isError).toBe(true);
    expect(text(tooMany)).toContain("reports");

    const history = structured<{ items: unknown[]; nextCursor: string | null }>(
      await client.callTool({ name: "node_history", arguments: { id: "web-1" } }),
    );
    expect(history).toEqual(
      (await call("GET", "/v1/fleet/nodes/web-1/history", { token: t.reader })).body,
    );
    socket.ws.close();
    await client.close();
  });

  it("search, read, submit, verify and record policies, with the API's refusals", async () => {
    const t = await newTenant("mcp-sched");
    const reader = await connect(t.reader);
    const operator = await connect(t.operator);
    const fifo = BUILTIN_POLICIES.find((e) => e.name === "fifo")!;

    const found = structured<{ items: Array<{ name: string; id: string }> }>(
      await reader.callTool({ name: "search_policies", arguments: { q: "fifo" } }),
    );
    expect(found.items.map((p) => p.name)).toContain("fifo");

    const args = { ...catalogMetadata(fifo), name: "mcp-fifo", source: fifo.source };
    const denied = await reader.callTool({ name: "submit_policy", arguments: args });
    expect(denied.isError).toBe(true);
    expect(text(denied)).toMatch(/^forbidden: /);
    const broken = await operator.callTool({
      name: "submit_policy",
      arguments: { ...args, source: "int main(void) { return 0; }" },
    });
    expect(broken.isError).toBe(true);
    expect(text(broken)).toMatch(/^static_check_failed: /);

    const created = structured<{ policy: { id: string }; version: { status: string } }>(
      await operator.callTool({ name: "submit_policy", arguments: args }),
    );
    expect(created.version.status).toBe("checked");
    const id = created.policy.id;

    const detail = structured<{
      policy: { id: string };
      versions: Array<{ version: number }>;
      version: { version: number; source: string | null };
    }>(await reader.callTool({ name: "get_policy", arguments: { id } }));
    expect(detail).toMatchObject({ policy: { id }, version: { version: 1, source: null } });
    const withSource = structured<{ version: { source: string } }>(
      await reader.callTool({ name: "get_policy", arguments: { id, includeSource: true } }),
    );
    expect(withSource.version.source).toBe(fifo.source);

    const status = structured<{ status: string; verification: unknown }>(
      await reader.callTool({ name: "verification_status", arguments: { id, version: 1 } }),
    );
    expect(status).toMatchObject({ status: "checked", verification: null });

    // No verifier connected: a clear error, and the version stays checked.
    const verify = await operator.callTool({
      name: "verify_policy",
      arguments: { id, version: 1 },
    });
    expect(verify.isError).toBe(true);
    expect(text(verify)).toMatch(/^unavailable: /);
    expect(
      structured<{ status: string }>(
        await reader.callTool({ name: "verification_status", arguments: { id, version: 1 } }),
      ).status,
    ).toBe("checked");

    const recorded = structured<{ target: string; outcome: string }>(
      await operator.callTool({
        name: "record_outcome",
        arguments: {
          id,
          version: 1,
          target: { selector: { labels: { tier: "web" } } },
          workloadClass: "cpu-bound-batch",
          metricsBefore: { runDelayUs: 900 },
          metricsAfter: { runDelayUs: 400 },
          outcome: "improved",
        },
      }),
    );
    expect(recorded).toMatchObject({ target: "tier=web", outcome: "improved" });
    const missingNode = await operator.callTool({
      name: "record_outcome",
      arguments: {
        id,
        version: 1,
        target: { nodeId: "nope-1" },
        workloadClass: "idle",
        metricsBefore: {},
        metricsAfter: {},
        outcome: "neutral",
      },
    });
    expect(text(missingNode)).toMatch(/^not_found: /);

    const audit = await call<{ items: Array<{ action: string; target: string | null }> }>(
      "GET",
      `/v1/audit?tenantId=${t.id}`,
      { token: "test-admin-token" },
    );
    expect(audit.body.items.map((i) => i.action)).toEqual(
      expect.arrayContaining(["sched_policy.create", "sched_policy.outcome_record"]),
    );
    await reader.close();
    await operator.close();
  });

  it("an agent key acts as its process: the process's capabilities decide", async () => {
    const t = await newTenant("mcp-sched-agent");
    const observer = (
      await spawn(t.operator, {
        type: "sched-agent",
        paused: true,
        capabilities: ["proc.finish", "fleet.observe", "sched.read"],
      })
    ).body;
    const key = await call<{ secret: string }>("POST", "/v1/keys", {
      token: t.admin,
      body: { name: "agent", role: "operator", processId: observer.id },
    });
    const client = await connect(key.body.secret);
    const listed = await client.callTool({ name: "list_nodes", arguments: {} });
    expect(structured(listed)).toEqual({ items: [], nextCursor: null });
    const fifo = BUILTIN_POLICIES.find((e) => e.name === "fifo")!;
    const submit = await client.callTool({
      name: "submit_policy",
      arguments: { ...catalogMetadata(fifo), name: "agent-mcp", source: fifo.source },
    });
    expect(submit.isError).toBe(true);
    expect(text(submit)).toMatch(/^capability_denied: /);
    await client.close();
  });

  it("deploy, follow, stop and roll back a rollout as the API does; an agent's deploy waits for a person", async () => {
    const t = await newTenant("mcp-rollout");
    const nodes = [
      await FakeNode.start(t, "mro-0", { tier: "web" }),
      await FakeNode.start(t, "mro-1", { tier: "web" }),
    ];
    try {
      const policyId = await signedFifo(t);
      const operator = await connect(t.operator);
      const reader = await connect(t.reader);
      const deploy = {
        policyId,
        version: 1,
        target: { labels: { tier: "web" } },
        canaryFraction: 0.5,
        healthWindowMs: 60_000,
      };
      const denied = await reader.callTool({ name: "deploy_policy", arguments: deploy });
      expect(text(denied)).toMatch(/^forbidden: /);
      const unsigned = await operator.callTool({
        name: "deploy_policy",
        arguments: { ...deploy, policyId: "spol_missing" },
      });
      expect(text(unsigned)).toMatch(/^not_found: /);

      const started = structured<RolloutView>(
        await operator.callTool({ name: "deploy_policy", arguments: deploy }),
      );
      expect(started).toMatchObject({ policyId, version: 1, phase: "canary" });
      expect(started.nodes.filter((n) => n.canary)).toHaveLength(1);
      const id = started.rolloutId;
      const active = await eventually(
        async () =>
          structured<RolloutView>(
            await reader.callTool({ name: "rollout_status", arguments: { id } }),
          ),
        (r) => r.nodes.some((n) => n.state === "active"),
      );
      // The same view as the API's (which moves on as telemetry arrives: compare what holds).
      const viaApi = (await call<RolloutView>("GET", `/v1/rollouts/${id}`, { token: t.reader }))
        .body;
      expect(Object.keys(active).sort()).toEqual(Object.keys(viaApi).sort());
      expect(active).toMatchObject({
        rolloutId: viaApi.rolloutId,
        target: viaApi.target,
        createdAt: viaApi.createdAt,
        guards: viaApi.guards,
      });

      const stopped = structured<RolloutView>(
        await operator.callTool({
          name: "stop_rollout",
          arguments: { id, reason: "investigating" },
        }),
      );
      expect(stopped.phase).toBe("stopped");
      const again = await operator.callTool({ name: "stop_rollout", arguments: { id } });
      expect(text(again)).toMatch(/^illegal_transition: /);
      const back = structured<RolloutView>(
        await operator.callTool({ name: "rollback_rollout", arguments: { id } }),
      );
      expect(back.phase).toMatch(/rolling_back|rolled_back/);
      const missing = await reader.callTool({
        name: "rollout_status",
        arguments: { id: "rol_nope" },
      });
      expect(text(missing)).toMatch(/^not_found: /);

      // An agent key acts as its process: sched.deploy is high risk, and a key cannot wait.
      const agent = (await spawn(t.operator, { type: "sched-agent", paused: true })).body;
      const key = await call<{ secret: string }>("POST", "/v1/keys", {
        token: t.admin,
        body: { name: "agent", role: "operator", processId: agent.id },
      });
      const agentClient = await connect(key.body.secret);
      // sched.deploy is high risk: without an entitlement no policy permits it; with one, the
      // default policy asks for a person, and a key's call cannot wait for one.
      const unentitled = await agentClient.callTool({ name: "deploy_policy", arguments: deploy });
      expect(text(unentitled)).toMatch(/^policy_denied: /);
      const grant = await call("POST", "/v1/entitlements", {
        token: t.admin,
        body: { agentType: "sched-agent", capability: "sched.deploy" },
      });
      expect(grant.status).toBe(201);
      const agentDeploy = await agentClient.callTool({ name: "deploy_policy", arguments: deploy });
      expect(agentDeploy.isError).toBe(true);
      expect(text(agentDeploy)).toMatch(/^approval_required: /);
      expect(text(agentDeploy)).toContain("high-risk-needs-approval");
      const audit = await call<{ items: Array<{ action: string }> }>(
        "GET",
        `/v1/audit?tenantId=${t.id}`,
        { token: "test-admin-token" },
      );
      expect(audit.body.items.map((i) => i.action)).toEqual(
        expect.arrayContaining(["rollout.start", "rollout.stop", "rollout.rollback"]),
      );
      await Promise.all([operator.close(), reader.close(), agentClient.close()]);
    } finally {
      for (const n of nodes) n.stop();
    }
  });

  it("the registry holds the control plane's capabilities at their risks", async () => {
    const t = await newTenant("mcp-sched-caps");
    const res = await call<{ items: Array<{ namespace: string; name: string; risk: string }> }>(
      "GET",
      "/v1/capabilities",
      { token: t.reader },
    );
    const risks = Object.fromEntries(
      res.body.items
        .filter((c) => c.namespace === "fleet" || c.namespace === "sched")
        .map((c) => [c.name, c.risk]),
    );
    expect(risks).toEqual(SCHED_CAPABILITY_RISK);
  });
});
