import { afterEach, describe, expect, it } from "vitest";
import type { RolloutView } from "../../src/schedcp/rollout-calls.js";
import { verifyAssignmentSignature } from "../../src/schedcp/signing.js";
import { call, newTenant, type TestTenant } from "../helpers.js";
import { eventually } from "./helpers.js";
import { FakeNode, signedFifo } from "./rollout-helpers.js";
import { createFifoCopy } from "./sched-helpers.js";

const nodes: FakeNode[] = [];
afterEach(() => {
  for (const n of nodes.splice(0)) n.stop();
});

async function fleet(prefix: string, count: number, labels = { tier: "web" }) {
  const t = await newTenant(prefix);
  const started: FakeNode[] = [];
  for (let i = 0; i < count; i++) started.push(await FakeNode.start(t, `${prefix}-${i}`, labels));
  nodes.push(...started);
  return { t, nodes: started };
}

async function rollout(t: TestTenant, id: string) {
  return (await call<RolloutView>("GET", `/v1/rollouts/${id}`, { token: t.reader })).body;
}

async function untilPhase(t: TestTenant, id: string, phase: string) {
  return eventually(
    () => rollout(t, id),
    (r) => r.phase === phase,
    200,
  );
}

interface HistoryItem {
  kind: string;
  nodeId?: string | null;
  to?: string;
  reason?: string | null;
  outcome?: string;
  workloadClass?: string;
}

async function history(t: TestTenant, policyId: string, query = "") {
  return (
    await call<{ items: HistoryItem[] }>(
      "GET",
      `/v1/policies/${policyId}/history?limit=100${query}`,
      { token: t.reader },
    )
  ).body.items;
}

describe("rollouts", () => {
  it("canaries first, promotes after the health window, completes; signed assignments; history and performance in D1", async () => {
    const { t, nodes: fleetNodes } = await fleet("ro-ok", 2);
    const policyId = await signedFifo(t);
    const res = await call<RolloutView>("POST", "/v1/rollouts", {
      token: t.operator,
      body: {
        policyId,
        version: 1,
        target: { labels: { tier: "web" } },
        canaryFraction: 0.5,
        healthWindowMs: 1_000,
      },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ policyId, version: 1, phase: "canary" });
    const canaries = res.body.nodes.filter((n) => n.canary);
    expect(canaries).toHaveLength(1);
    expect(res.body.nodes.filter((n) => n.state === "pending")).toHaveLength(1);

    const canary = fleetNodes.find((n) => n.nodeId === canaries[0]!.nodeId)!;
    const other = fleetNodes.find((n) => n !== canary)!;
    await eventually(
      async () => canary.assignments.length,
      (n) => n === 1,
    );
    expect(other.assignments).toHaveLength(0);
    // What the canary got is signed by the control plane's key over exactly its payload.
    const a = canary.assignments[0]!;
    expect(a).toMatchObject({
      rolloutId: res.body.rolloutId,
      artifact: { kind: "bpf-object", opsName: "ek_fifo" },
    });
    expect(
      await verifyAssignmentSignature(canary.enrolled.signingPublicKey, a.payload, a.signature),
    ).toBe(true);

    const done = await untilPhase(t, res.body.rolloutId, "completed");
    expect(other.assignments).toHaveLength(1);
    expect(done.nodes.map((n) => n.state)).toEqual(["active", "active"]);
    expect(done.phaseReason).toMatch(/held its guards/);

    const list = await call<{ items: RolloutView[] }>("GET", "/v1/rollouts?phase=completed", {
      token: t.reader,
    });
    expect(list.body.items.map((r) => r.rolloutId)).toEqual([res.body.rolloutId]);

    const items = await eventually(
      () => history(t, policyId),
      (h) => h.some((i) => i.kind === "performance"),
    );
    const phases = items.filter((i) => i.kind === "rollout" && i.nodeId === null).map((i) => i.to);
    expect(phases).toEqual(expect.arrayContaining(["canary", "promoting", "completed"]));
    expect(items.filter((i) => i.kind === "performance")).toHaveLength(2);
    expect(items.find((i) => i.kind === "performance")).toMatchObject({ outcome: "neutral" });
    // Per node.
    const nodeItems = await history(t, policyId, `&nodeId=${other.nodeId}`);
    expect(nodeItems.some((i) => i.kind === "rollout" && i.to === "active")).toBe(true);
    expect(nodeItems.every((i) => i.kind !== "rollout" || i.nodeId === other.nodeId)).toBe(true);
    // A node's own history, across policies.
    const own = await call<{ items: Array<HistoryItem & { policyId: string }> }>(
      "GET",
      `/v1/fleet/nodes/${other.nodeId}/history?limit=100`,
      { token: t.reader },
    );
    expect(own.status).toBe(200);
    expect(own.body.items.length).toBeGreaterThan(0);
    expect(own.body.items.every((i) => i.policyId === policyId)).toBe(true);
    expect(own.body.items.some((i) => i.kind === "performance")).toBe(true);
    const stranger = await newTenant("ro-ok-other");
    expect(
      (await call("GET", `/v1/fleet/nodes/${other.nodeId}/history`, { token: stranger.reader }))
        .status,
    ).toBe(404);
    expect((await call("GET", "/v1/fleet/nodes/nobody/history", { token: t.reader })).status).toBe(
      404,
    );
  });

  it("a node that never becomes active times out on the alarm and the rollout rolls back, not counted", async () => {
    const { t, nodes: fleetNodes } = await fleet("ro-to", 1);
    const policyId = await signedFifo(t);
    fleetNodes[0]!.activates = false;
    const res = await call<RolloutView>("POST", "/v1/rollouts", {
      token: t.operator,
      body: {
        policyId,
        version: 1,
        target: { nodeIds: [fleetNodes[0]!.nodeId] },
        activateTimeoutMs: 500,
        failureThreshold: 1,
      },
    });
    expect(res.status).toBe(201);
    const back = await untilPhase(t, res.body.rolloutId, "rolled_back");
    expect(back.nodes[0]!.failure).toMatchObject({ reason: "activate_timeout", counted: false });
    expect(back.nodes[0]!.state).toBe("reverted");
    expect(back.quarantined).toBe(false);
    expect(fleetNodes[0]!.reverts).toHaveLength(1);
  });

  it("a canary lost while running the policy rolls the rollout back and counts against the version", async () => {
    const { t, nodes: fleetNodes } = await fleet("ro-off", 2);
    const policyId = await signedFifo(t);
    const res = await call<RolloutView>("POST", "/v1/rollouts", {
      token: t.operator,
      body: {
        policyId,
        version: 1,
        target: { labels: { tier: "web" } },
        canaryFraction: 0.5,
        healthWindowMs: 60_000,
        ackTimeoutMs: 1_000,
      },
    });
    const canary = fleetNodes.find(
      (n) => n.nodeId === res.body.nodes.find((x) => x.canary)!.nodeId,
    )!;
    await eventually(
      () => rollout(t, res.body.rolloutId),
      (r) => r.nodes.some((n) => n.state === "active"),
    );
    canary.stop();
    canary.socket.ws.close(1000, "gone");
    const back = await untilPhase(t, res.body.rolloutId, "rolled_back");
    const lost = back.nodes.find((n) => n.nodeId === canary.nodeId)!;
    expect(lost.failure).toMatchObject({ reason: "offline_while_active", counted: true });
    expect(lost.online).toBe(false);
    // Its revert could not be delivered: unconfirmed, said so.
    expect(lost.state).toBe("revert_unconfirmed");
    expect(back.phaseReason).toMatch(/unconfirmed/);
  });

  it("rolls back on a PSI regression on a canary; K failed nodes quarantine the version, which then refuses rollouts", async () => {
    const { t, nodes: fleetNodes } = await fleet("ro-reg", 2);
    const policyId = await signedFifo(t);
    const res = await call<RolloutView>("POST", "/v1/rollouts", {
      token: t.operator,
      body: {
        policyId,
        version: 1,
        target: { nodeIds: fleetNodes.map((n) => n.nodeId) },
        canaryFraction: 0.5,
        healthWindowMs: 60_000,
        failureThreshold: 1,
      },
    });
    expect(res.status).toBe(201);
    const canary = fleetNodes.find(
      (n) => n.nodeId === res.body.nodes.find((x) => x.canary)!.nodeId,
    )!;
    await eventually(
      () => rollout(t, res.body.rolloutId),
      (r) => r.nodes.some((n) => n.state === "active"),
    );
    canary.psiPct = 40;
    const back = await untilPhase(t, res.body.rolloutId, "rolled_back");
    const failed = back.nodes.find((n) => n.nodeId === canary.nodeId)!;
    expect(failed.failure).toMatchObject({ reason: "regression", counted: true });
    expect(failed.failure!.detail).toMatch(/psiSomeAvg10Pct 40 over/);
    expect(failed.state).toBe("reverted");
    expect(canary.reverts).toHaveLength(1);
    expect(back.nodes.find((n) => n.nodeId !== canary.nodeId)!.state).toBe("skipped");
    expect(back.quarantined).toBe(true);

    const version = await eventually(
      async () =>
        (
          await call<{ status: string }>("GET", `/v1/policies/${policyId}/versions/1`, {
            token: t.reader,
          })
        ).body,
      (v) => v.status === "quarantined",
    );
    expect(version.status).toBe("quarantined");
    canary.psiPct = 2;
    const again = await call<{ code: string; detail: string }>("POST", "/v1/rollouts", {
      token: t.operator,
      body: { policyId, version: 1, target: { labels: { tier: "web" } } },
    });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe("version_quarantined");
    expect(again.body.detail).toMatch(/clear-quarantine/);
    // Cleared, it rolls out again.
    expect(
      (
        await call("POST", `/v1/policies/${policyId}/versions/1/clear-quarantine`, {
          token: t.operator,
        })
      ).status,
    ).toBe(200);
    const third = await call<RolloutView>("POST", "/v1/rollouts", {
      token: t.operator,
      body: { policyId, version: 1, target: { labels: { tier: "web" } }, healthWindowMs: 60_000 },
    });
    expect(third.status).toBe(201);
  });

  it("rolls back when the kernel ejects the scheduler on a canary", async () => {
    const { t, nodes: fleetNodes } = await fleet("ro-ej", 1);
    const policyId = await signedFifo(t);
    const res = await call<RolloutView>("POST", "/v1/rollouts", {
      token: t.operator,
      body: {
        policyId,
        version: 1,
        target: { nodeIds: [fleetNodes[0]!.nodeId] },
        healthWindowMs: 60_000,
      },
    });
    await eventually(
      () => rollout(t, res.body.rolloutId),
      (r) => r.nodes[0]!.state === "active",
    );
    fleetNodes[0]!.status("ejected", "watchdog: runnable task stall");
    const back = await untilPhase(t, res.body.rolloutId, "rolled_back");
    expect(back.nodes[0]!.failure).toMatchObject({ reason: "ejected", counted: true });
    expect(back.quarantined).toBe(false);
  });

  it("a node that refuses the assignment (bad signature) rolls the rollout back, not counted", async () => {
    const { t, nodes: fleetNodes } = await fleet("ro-ref", 1);
    const policyId = await signedFifo(t);
    fleetNodes[0]!.refuses = { code: "bad_signature", message: "the signature does not verify" };
    const res = await call<RolloutView>("POST", "/v1/rollouts", {
      token: t.operator,
      body: {
        policyId,
        version: 1,
        target: { nodeIds: [fleetNodes[0]!.nodeId] },
        failureThreshold: 1,
      },
    });
    expect(res.status).toBe(201);
    const back = await untilPhase(t, res.body.rolloutId, "rolled_back");
    expect(back.nodes[0]!.state).toBe("off");
    expect(back.nodes[0]!.failure).toMatchObject({ reason: "refused", counted: false });
    expect(back.nodes[0]!.failure!.detail).toMatch(/bad_signature/);
    expect(back.quarantined).toBe(false);
    // Nothing the node refused was counted against the version: it rolls out again.
    fleetNodes[0]!.refuses = null;
    const again = await call("POST", "/v1/rollouts", {
      token: t.operator,
      body: { policyId, version: 1, target: { nodeIds: [fleetNodes[0]!.nodeId] } },
    });
    expect(again.status).toBe(201);
  });

  it("stop holds promotion; rollback reverts; commands out of phase are 409", async () => {
    const { t, nodes: fleetNodes } = await fleet("ro-stop", 2);
    const policyId = await signedFifo(t);
    const res = await call<RolloutView>("POST", "/v1/rollouts", {
      token: t.operator,
      body: {
        policyId,
        version: 1,
        target: { labels: { tier: "web" } },
        canaryFraction: 0.5,
        healthWindowMs: 60_000,
      },
    });
    const id = res.body.rolloutId;
    await eventually(
      () => rollout(t, id),
      (r) => r.nodes.some((n) => n.state === "active"),
    );
    const stopped = await call<RolloutView>("POST", `/v1/rollouts/${id}/stop`, {
      token: t.operator,
      body: { reason: "investigating" },
    });
    expect(stopped.status).toBe(200);
    expect(stopped.body.phase).toBe("stopped");
    expect(stopped.body.phaseReason).toMatch(/investigating/);
    const again = await call<{ code: string }>("POST", `/v1/rollouts/${id}/stop`, {
      token: t.operator,
    });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe("illegal_transition");
    // A reader may look but not act.
    expect((await call("POST", `/v1/rollouts/${id}/rollback`, { token: t.reader })).status).toBe(
      403,
    );
    const back = await call<RolloutView>("POST", `/v1/rollouts/${id}/rollback`, {
      token: t.operator,
    });
    expect(back.status).toBe(200);
    expect(back.body.phase).toMatch(/rolling_back|rolled_back/);
    const done = await untilPhase(t, id, "rolled_back");
    expect(done.nodes.map((n) => n.state).sort()).toEqual(["reverted", "skipped"]);
    expect(fleetNodes.flatMap((n) => n.reverts)).toHaveLength(1);
    expect((await call("POST", `/v1/rollouts/${id}/rollback`, { token: t.operator })).status).toBe(
      409,
    );
    expect(done.quarantined).toBe(false);
    const audit = await call<{
      items: Array<{ action: string; target: string; decision: string }>;
    }>("GET", `/v1/audit?tenantId=${t.id}`, { token: "test-admin-token" });
    const rows = audit.body.items
      .filter((i) => i.action.startsWith("rollout."))
      .map((i) => [i.action, i.target, i.decision]);
    expect(rows).toEqual(
      expect.arrayContaining([
        ["rollout.start", id, "allow"],
        ["rollout.stop", id, "allow"],
        ["rollout.rollback", id, "allow"],
        ["rollout.rollback", id, "deny"],
      ]),
    );
  });

  it("refuses bad input with problem+json: unsigned, unknown, another tenant's, malformed", async () => {
    const { t, nodes: fleetNodes } = await fleet("ro-bad", 1);
    const other = await newTenant("ro-bad-other");
    const nodeIds = [fleetNodes[0]!.nodeId];
    const checked = await createFifoCopy(t);
    const post = (body: unknown, token = t.operator) =>
      call<{ code: string; errors?: Array<{ path: string }>; status: number }>(
        "POST",
        "/v1/rollouts",
        {
          token,
          body,
        },
      );

    const unsigned = await post({ policyId: checked, version: 1, target: { nodeIds } });
    expect(unsigned.status).toBe(409);
    expect(unsigned.body.code).toBe("version_not_signed");

    expect((await post({ policyId: "spol_nope", version: 1, target: { nodeIds } })).status).toBe(
      404,
    );
    expect((await post({ policyId: checked, version: 9, target: { nodeIds } })).status).toBe(404);
    // Another tenant's policy and another tenant's node are missing, not forbidden.
    expect(
      (await post({ policyId: checked, version: 1, target: { nodeIds } }, other.operator)).status,
    ).toBe(404);
    const signed = await signedFifo(t);
    const foreignNode = await FakeNode.start(other, "ro-bad-foreign", { tier: "web" });
    nodes.push(foreignNode);
    const unknownNode = await post({
      policyId: signed,
      version: 1,
      target: { nodeIds: ["ro-bad-foreign"] },
    });
    expect(unknownNode.status).toBe(404);
    expect(unknownNode.body.errors?.[0]?.path).toBe("target.nodeIds");
    const noMatch = await post({
      policyId: signed,
      version: 1,
      target: { labels: { tier: "db" } },
    });
    expect(noMatch.status).toBe(422);
    expect(noMatch.body.errors?.[0]?.path).toBe("target.labels");

    const wrongType = await post({
      policyId: signed,
      version: 1,
      target: { nodeIds },
      canaryFraction: "half",
    });
    expect(wrongType.status).toBe(422);
    expect(wrongType.body.errors?.map((e) => e.path)).toEqual(["canaryFraction"]);
    const both = await post({
      policyId: signed,
      version: 1,
      target: { nodeIds, labels: { a: "b" } },
    });
    expect(both.status).toBe(422);
    expect(both.body.errors?.[0]?.path).toBe("target");
    const extra = await post({ policyId: signed, version: 1, target: { nodeIds }, canary: 1 });
    expect(extra.body.errors?.[0]).toMatchObject({ path: "canary", code: "unrecognized_key" });
    const window = await post({
      policyId: signed,
      version: 1,
      target: { nodeIds },
      healthWindowMs: 999,
    });
    expect(window.body.errors?.[0]?.path).toBe("healthWindowMs");

    const malformed = await call<{ code: string }>("POST", "/v1/rollouts", {
      token: t.operator,
      raw: "{not json",
      headers: { "content-type": "application/json" },
    });
    expect(malformed.status).toBe(400);
    expect(malformed.body.code).toBe("malformed_json");

    // Another tenant's rollout id is missing too.
    const mine = await post({
      policyId: signed,
      version: 1,
      target: { nodeIds },
      healthWindowMs: 60_000,
    });
    expect(mine.status).toBe(201);
    const id = (mine.body as unknown as RolloutView).rolloutId;
    expect((await call("GET", `/v1/rollouts/${id}`, { token: other.reader })).status).toBe(404);
    expect(
      (await call("POST", `/v1/rollouts/${id}/rollback`, { token: other.operator })).status,
    ).toBe(404);
    expect((await call("GET", "/v1/rollouts/rol_missing", { token: t.reader })).status).toBe(404);
    expect((await call("GET", "/v1/rollouts/not-an-id", { token: t.reader })).status).toBe(404);
    // The node is in a live rollout: a second one on it is refused.
    const busy = await post({ policyId: signed, version: 1, target: { nodeIds } });
    expect(busy.status).toBe(409);
    expect(busy.body.code).toBe("nodes_unavailable");
  });
});
