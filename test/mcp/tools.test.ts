import { describe, expect, it } from "vitest";
import { call, newTenant, type ProcessBody, SLEEP_SCRIPT, until } from "../helpers";
import { connect, structured, text } from "./client";

const TOOL_NAMES = [
  "approve_call",
  "artifact_get",
  "artifact_get_content",
  "artifact_list",
  "artifact_put",
  "blackboard_delete",
  "blackboard_get",
  "blackboard_list",
  "blackboard_put",
  "delete_file",
  "deny_call",
  "deploy_policy",
  "get_node",
  "get_policy",
  "get_process",
  "list_agent_types",
  "list_approvals",
  "list_files",
  "list_nodes",
  "list_processes",
  "node_history",
  "pause_process",
  "publish",
  "query_audit",
  "read_file",
  "read_mailbox",
  "record_outcome",
  "resume_process",
  "revoke_share",
  "rollback_rollout",
  "rollout_status",
  "search_memory",
  "search_policies",
  "send_message",
  "share_path",
  "spawn_process",
  "stop_rollout",
  "submit_policy",
  "submit_version",
  "subscribe",
  "terminate_process",
  "verification_status",
  "verify_policy",
  "workload_profile",
  "write_file",
  "write_memory",
];

describe("MCP tools", () => {
  it("lists every tool with honest annotations and object schemas from the API's definitions", async () => {
    const t = await newTenant();
    const client = await connect(t.reader);
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual(TOOL_NAMES);
    const byName = new Map(tools.map((tool) => [tool.name, tool]));
    for (const tool of tools) {
      expect(tool.inputSchema.type, tool.name).toBe("object");
      expect(tool.outputSchema?.type, tool.name).toBe("object");
      expect(tool.annotations?.openWorldHint, tool.name).toBe(false);
    }
    for (const name of [
      "list_processes",
      "get_process",
      "list_agent_types",
      "query_audit",
      "list_approvals",
      "list_nodes",
      "get_node",
      "workload_profile",
      "node_history",
      "search_policies",
      "get_policy",
      "verification_status",
      "rollout_status",
    ]) {
      expect(byName.get(name)?.annotations, name).toMatchObject({ readOnlyHint: true });
    }
    expect(byName.get("spawn_process")?.annotations).toMatchObject({
      readOnlyHint: false,
      destructiveHint: false,
      idempotentHint: false,
    });
    for (const name of ["submit_policy", "submit_version", "verify_policy", "record_outcome"]) {
      expect(byName.get(name)?.annotations, name).toMatchObject({
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: false,
      });
    }
    for (const name of ["deploy_policy", "stop_rollout", "rollback_rollout"]) {
      expect(byName.get(name)?.annotations, name).toMatchObject({
        readOnlyHint: false,
        destructiveHint: true,
      });
    }
    expect(byName.get("pause_process")?.annotations).toMatchObject({
      readOnlyHint: false,
      destructiveHint: false,
    });
    expect(byName.get("approve_call")?.annotations).toMatchObject({
      destructiveHint: true,
      idempotentHint: false,
    });
    expect(byName.get("deny_call")?.annotations).toMatchObject({
      destructiveHint: false,
      idempotentHint: false,
    });
    expect(byName.get("terminate_process")?.annotations).toMatchObject({
      readOnlyHint: false,
      destructiveHint: true,
      idempotentHint: true,
    });
    // The spawn schema is the API's SpawnRequest plus the idempotency key.
    const spawnSchema = byName.get("spawn_process")?.inputSchema as unknown as {
      properties: Record<string, { maxLength?: number }>;
      required: string[];
      additionalProperties: boolean;
    };
    expect(spawnSchema.required).toEqual(expect.arrayContaining(["type", "goal"]));
    expect(spawnSchema.properties.goal?.maxLength).toBe(8000);
    expect(Object.keys(spawnSchema.properties)).toEqual(
      expect.arrayContaining(["labels", "budget", "script", "paused", "idempotencyKey"]),
    );
    expect(spawnSchema.additionalProperties).toBe(false);
    await client.close();
  });

  it("drives a process spawn → get → pause → resume → terminate, as the API shows it", async () => {
    const t = await newTenant();
    const client = await connect(t.operator);
    const spawned = await client.callTool({
      name: "spawn_process",
      arguments: { type: "assistant", goal: "watch the queue", script: SLEEP_SCRIPT },
    });
    const p = structured<ProcessBody & { replayed: boolean }>(spawned);
    expect(p).toMatchObject({ tenantId: t.id, type: { name: "assistant" }, replayed: false });
    expect(text(spawned)).toContain(p.id);
    await until(t.operator, p.id, (r) => r.status === "waiting");

    const got = structured<ProcessBody>(
      await client.callTool({ name: "get_process", arguments: { id: p.id } }),
    );
    expect(got).toMatchObject({ id: p.id, status: "waiting" });

    const paused = structured<ProcessBody & { changed: boolean }>(
      await client.callTool({
        name: "pause_process",
        arguments: { id: p.id, reason: "maintenance" },
      }),
    );
    expect(paused).toMatchObject({ status: "paused", pausedFrom: "waiting", changed: true });
    const resumed = structured<ProcessBody>(
      await client.callTool({ name: "resume_process", arguments: { id: p.id } }),
    );
    expect(resumed).toMatchObject({ status: "waiting", pausedFrom: null });
    const terminated = await client.callTool({
      name: "terminate_process",
      arguments: { id: p.id, reason: "done" },
    });
    expect(structured(terminated)).toMatchObject({ status: "terminated", exitReason: "done" });
    const again = await client.callTool({ name: "terminate_process", arguments: { id: p.id } });
    expect(structured(again)).toMatchObject({ status: "terminated", changed: false });

    // The HTTPS API sees the same process and the same event log.
    const viaApi = await call<ProcessBody>("GET", `/v1/processes/${p.id}`, { token: t.reader });
    expect(viaApi.body).toMatchObject({ status: "terminated", exitReason: "done" });
    const events = await call<{ items: Array<{ event: string; reason: string | null }> }>(
      "GET",
      `/v1/processes/${p.id}/events`,
      { token: t.reader },
    );
    expect(events.body.items.map((e) => e.event).slice(-3)).toEqual([
      "pause",
      "resume",
      "terminate",
    ]);
    expect(events.body.items.find((e) => e.event === "pause")?.reason).toBe("maintenance");
    await client.close();
  });

  it("lists processes by label and agent types, and answers a retried spawn with the same process", async () => {
    const t = await newTenant();
    const client = await connect(t.operator);
    const args = {
      type: "assistant",
      goal: "retry me",
      labels: { team: "sre" },
      paused: true,
      idempotencyKey: "mcp-retry-1",
    };
    const first = structured<ProcessBody>(
      await client.callTool({ name: "spawn_process", arguments: args }),
    );
    const second = structured<ProcessBody & { replayed: boolean }>(
      await client.callTool({ name: "spawn_process", arguments: args }),
    );
    expect(second).toMatchObject({ id: first.id, replayed: true });
    await client.callTool({
      name: "spawn_process",
      arguments: { type: "assistant", goal: "other", paused: true },
    });

    const page = structured<{ items: Array<{ id: string }>; nextCursor: string | null }>(
      await client.callTool({ name: "list_processes", arguments: { labels: { team: "sre" } } }),
    );
    expect(page.items.map((i) => i.id)).toEqual([first.id]);
    const all = structured<{ items: unknown[]; nextCursor: string | null }>(
      await client.callTool({ name: "list_processes", arguments: { limit: 1 } }),
    );
    expect(all.items).toHaveLength(1);
    expect(all.nextCursor).toBeTruthy();

    const types = structured<{ items: Array<{ name: string; builtin: boolean }> }>(
      await client.callTool({ name: "list_agent_types", arguments: {} }),
    );
    expect(types.items).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: "assistant", builtin: true })]),
    );
    await client.close();
  });

  it("answers arguments that fail the schema with a tool error naming the field", async () => {
    const t = await newTenant();
    const client = await connect(t.operator);
    const missingGoal = await client.callTool({
      name: "spawn_process",
      arguments: { type: "assistant" },
    });
    expect(missingGoal.isError).toBe(true);
    expect(text(missingGoal)).toMatch(/Input validation error: .* at goal$/);

    const badBudget = await client.callTool({
      name: "spawn_process",
      arguments: { type: "assistant", goal: "x", budget: { maxTokens: 0 } },
    });
    expect(badBudget.isError).toBe(true);
    expect(text(badBudget)).toMatch(/at budget\.maxTokens$/);

    const unknownField = await client.callTool({
      name: "get_process",
      arguments: { id: "proc_0000000000007000800000000000dead", verbose: true },
    });
    expect(unknownField.isError).toBe(true);
    expect(text(unknownField)).toMatch(/Unrecognized key: "verbose"/);

    // A check only the kernel can make names its field too, as the API's 422 does.
    const notGranted = await client.callTool({
      name: "spawn_process",
      arguments: { type: "assistant", goal: "x", capabilities: ["net.fetch"] },
    });
    expect(notGranted.isError).toBe(true);
    expect(text(notGranted)).toMatch(/^validation_failed: /);
    expect(text(notGranted)).toMatch(/^validation_failed: capabilities\[0\]: .*net\.fetch$/);
    await client.close();
  });

  it("refuses a reader's state changes and a running illegal transition, as the API does", async () => {
    const t = await newTenant();
    const reader = await connect(t.reader);
    const denied = await reader.callTool({
      name: "spawn_process",
      arguments: { type: "assistant", goal: "x" },
    });
    expect(denied.isError).toBe(true);
    expect(text(denied)).toMatch(/^forbidden: /);

    const operator = await connect(t.operator);
    const p = structured<ProcessBody>(
      await operator.callTool({
        name: "spawn_process",
        arguments: { type: "assistant", goal: "x", paused: true },
      }),
    );
    const illegal = await operator.callTool({ name: "pause_process", arguments: { id: p.id } });
    expect(illegal.isError).toBe(true);
    expect(text(illegal)).toMatch(/^illegal_transition: /);
    await reader.close();
    await operator.close();
  });
});
