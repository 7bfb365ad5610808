// The Fleet object's RPC surface, as the rollout engine and the verification dispatcher call it.

import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Env } from "../../src/env.js";
import { fleetStub } from "../../src/objects/fleet.js";
import { connectHello, enroll, eventually } from "../fleet/helpers.js";
import { newTenant } from "../helpers.js";

const fleetEnv = env as unknown as Env;

const VERIFY_JOB = {
  jobId: "vjob_abc",
  policyId: "spol_fifo",
  version: 1,
  source: "/* bpf */",
  parameters: {},
  opsName: "fifo",
  workloadMs: 1000,
  uploadPath: "/v1/fleet/verify/vjob_abc/object",
};

const VERIFY_RESULT = {
  jobId: "vjob_abc",
  ok: true,
  stages: [{ stage: "compile", ok: true, durationMs: 10, log: "" }],
  loaded: true,
  tasksScheduled: 12,
  ejected: false,
  ejectionReason: null,
  unloadedCleanly: true,
  kernelRelease: "6.12.0",
  object: { sha256: "d".repeat(64), sizeBytes: 1024 },
};

describe("the Fleet object's RPC", () => {
  it("sends verify jobs to verifiers only, and keeps the result a verifier sends", async () => {
    const t = await newTenant("fleet");
    const node = await enroll(t, { nodeId: "n1" });
    const verifier = await enroll(t, { nodeId: "v1", role: "verifier" });
    const a = await connectHello(node.credential);
    const v = await connectHello(verifier.credential, { role: "verifier" });
    const fleet = fleetStub(fleetEnv, t.id);

    const pending = fleet.sendCommand(
      t.id,
      { nodeIds: ["n1", "v1"] },
      { op: "verify", job: VERIFY_JOB },
      { timeoutMs: 5_000 },
    );
    const command = await v.next();
    if (command.type !== "command") throw new Error("expected a command");
    expect(command.body).toEqual({ op: "verify", job: VERIFY_JOB });
    v.send({ type: "ack", commandId: command.commandId, ok: true, error: null });
    const reply = await pending;
    if (!reply.ok) throw new Error(reply.message);
    const byNode = Object.fromEntries(reply.results.map((r) => [r.nodeId, r]));
    expect(byNode.n1).toMatchObject({ status: "failed", error: { code: "wrong_role" } });
    expect(byNode.v1).toMatchObject({ status: "acked" });
    expect(reply.counts).toMatchObject({ acked: 1, failed: 1 });

    expect(await fleet.verifyResult(t.id, "vjob_abc")).toBeNull();
    v.send({ type: "verify-result", result: VERIFY_RESULT });
    const stored = await eventually(
      () => fleet.verifyResult(t.id, "vjob_abc"),
      (r) => r !== null,
    );
    expect(stored).toMatchObject({ nodeId: "v1", result: VERIFY_RESULT });
    a.ws.close(1000);
    v.ws.close(1000);
  });

  it("returns at once without waiting when asked, and reads the results later", async () => {
    const t = await newTenant("fleet");
    const node = await enroll(t, { nodeId: "n1", tokenLabels: { tier: "canary" } });
    const socket = await connectHello(node.credential);
    const fleet = fleetStub(fleetEnv, t.id);
    const reply = await fleet.sendCommand(
      t.id,
      { selector: { labels: { tier: "canary" }, role: "node" } },
      { op: "revert", assignmentId: null, reason: "now" },
      { wait: false },
    );
    if (!reply.ok) throw new Error(reply.message);
    expect(reply.results).toHaveLength(1);
    expect(reply.results[0]).toMatchObject({ status: "sent", settledAtMs: null });
    const command = await socket.next();
    if (command.type !== "command") throw new Error("expected a command");
    socket.send({ type: "ack", commandId: command.commandId, ok: true, error: null });
    const settled = await eventually(
      () => fleet.commandResults(t.id, [command.commandId, "cmd_unknown"]),
      (rows) => rows[0]?.status === "acked",
    );
    expect(settled).toHaveLength(1);
    // A second ack for the same command is ignored.
    socket.send({
      type: "ack",
      commandId: command.commandId,
      ok: false,
      error: { code: "late", message: "again" },
    });
    const again = await fleet.commandResults(t.id, [command.commandId]);
    expect(again[0]?.status).toBe("acked");

    const live = await fleet.nodes(t.id, { labels: { tier: "canary" } });
    expect(live.map((n) => [n.nodeId, n.status])).toEqual([["n1", "online"]]);
    expect(await fleet.nodes(t.id, { labels: { tier: "other" } })).toEqual([]);
    socket.ws.close(1000);
  });

  it("refuses an invalid command or timeout with a reason instead of throwing", async () => {
    const t = await newTenant("fleet");
    const fleet = fleetStub(fleetEnv, t.id);
    const bad = await fleet.sendCommand(t.id, { nodeIds: ["n1"] }, { op: "assign" } as never);
    expect(bad).toMatchObject({ ok: false, code: "invalid_command" });
    const timeout = await fleet.sendCommand(
      t.id,
      { nodeIds: ["n1"] },
      { op: "revert", assignmentId: null, reason: "x" },
      { timeoutMs: 600_001 },
    );
    expect(timeout).toMatchObject({ ok: false, code: "invalid_command" });
    const none = await fleet.sendCommand(
      t.id,
      { selector: { labels: { nobody: "here" } } },
      { op: "revert", assignmentId: null, reason: "x" },
    );
    expect(none).toMatchObject({ ok: true, results: [] });
    // Another tenant's calls are answered as about missing nodes.
    expect(await fleet.node("ten_other", "n1")).toBeNull();
    expect(
      await fleet.sendCommand(
        "ten_other",
        { nodeIds: ["n1"] },
        { op: "revert", assignmentId: null, reason: "x" },
      ),
    ).toMatchObject({ ok: false, code: "wrong_tenant" });
  });
});
