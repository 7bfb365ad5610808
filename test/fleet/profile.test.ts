/**
 * Workload profiles over HTTPS against real D1 and the tenant's Fleet object: nodes connected
 * over real WebSockets send telemetry; the profile classifies a window of it with the evidence
 * and recommends policies from the repository. Edges: no telemetry yet, window bounds, unknown
 * and foreign nodes, bad selectors, the group-size limit.
 */

import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Env } from "../../src/env";
import { PROFILE_LIMITS } from "../../src/schedcp/profile";
import type { TelemetryReport } from "../../src/schedcp/protocol/index";
import { openDb } from "../../src/store/db";
import { fleetNodes } from "../../src/store/schema-fleet";
import { call, newTenant, type TestTenant } from "../helpers";
import { report as shaped } from "../schedcp/telemetry-fixtures";
import { connectHello, enroll, eventually, FACTS, type NodeSocket } from "./helpers";

const db = openDb((env as unknown as Env).DB);

interface Signal {
  name: string;
  value: number | null;
  pointsTo: string | null;
  thresholds: Array<{ name: string; value: number; comparison: string; met: boolean }>;
}
interface Profile {
  kind: "node" | "group";
  nodeId?: string;
  status?: string;
  class: string | null;
  confidence: number;
  summary: string;
  signals: Signal[];
  topProcesses: Array<{ name: string; cpuPct: number }>;
  window: {
    reports: number;
    requestedReports: number;
    cpus: number | null;
    oldestAt: string | null;
    newestAt: string | null;
  };
  recommendations: {
    workloadClass: string | null;
    recommendations: Array<{ name: string; score: number; reasons: string[] }>;
    notes: string[];
  };
  target?: string;
  selector?: { labels: Record<string, string>; role?: string };
  nodes?: Array<{ nodeId: string; class: string | null; reports: number; status: string }>;
  agreement?: number;
}

/** Two CPUs held by one compiler, switching at tick rate with long slices: batch. */
const BATCH: TelemetryReport = shaped({
  cpus: 2,
  busyPct: 95,
  cswPerSec: 200,
  timeslices: 100,
  top: [["cc1", 180]],
});

/** Mostly idle CPUs, but tasks wait for one and switch on every wakeup: latency-sensitive. */
const LATENCY: TelemetryReport = shaped({
  cpus: 2,
  busyPct: 40,
  psiSomePct: 25,
  runDelayUs: 2_000,
  cswPerSec: 10_000,
  timeslices: 4_000,
  top: [["nginx", 30]],
});

async function sendReports(socket: NodeSocket, n: number, body: TelemetryReport) {
  for (let i = 0; i < n; i++) {
    socket.send({ type: "telemetry", atMs: 1_700_000_000_000 + i * 10_000, report: body });
  }
}

async function profileOf(t: TestTenant, path: string): Promise<Profile> {
  const res = await call<Profile>("GET", path, { token: t.reader });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

/** Polls a profile until its window holds `reports` reports (telemetry is written behind). */
function profileWith(t: TestTenant, path: string, reports: number): Promise<Profile> {
  return eventually(
    () => profileOf(t, path),
    (p) => p.window.reports === reports,
  );
}

describe("GET /v1/fleet/nodes/{id}/profile", () => {
  it("classifies a node's telemetry with the evidence and recommends policies with reasons", async () => {
    const t = await newTenant("profile");
    const node = await enroll(t, { nodeId: "build-1" });
    const socket = await connectHello(node.credential);
    await sendReports(socket, 6, BATCH);
    const p = await profileWith(t, "/v1/fleet/nodes/build-1/profile", 6);

    expect(p).toMatchObject({ kind: "node", nodeId: "build-1", status: "online" });
    expect(p.class).toBe("cpu-bound-batch");
    expect(p.confidence).toBeGreaterThan(0.5);
    expect(p.summary).toMatch(/^cpu-bound-batch/);
    expect(p.window).toMatchObject({
      reports: 6,
      requestedReports: PROFILE_LIMITS.windowReportsDefault,
      cpus: FACTS.cpus?.onlineCount,
      oldestAt: new Date(1_700_000_000_000).toISOString(),
      newestAt: new Date(1_700_000_050_000).toISOString(),
    });
    // The evidence names its thresholds and whether each was met.
    const csw = p.signals.find((s) => s.name === "contextSwitchesPerSecPerCpu")!;
    expect(csw.value).toBe(100);
    expect(csw.pointsTo).toBe("cpu-bound-batch");
    expect(csw.thresholds).toContainEqual({
      name: "CSW_PER_CPU_BATCH_MAX",
      value: 500,
      comparison: "<",
      met: true,
    });
    expect(p.topProcesses[0]).toMatchObject({ name: "cc1", cpuPct: 180 });
    // The built-in FIFO is tagged cpu-bound-batch: it leads, and says why.
    expect(p.recommendations.workloadClass).toBe("cpu-bound-batch");
    const fifo = p.recommendations.recommendations.find((r) => r.name === "fifo")!;
    expect(fifo.reasons).toContain("+3 tagged cpu-bound-batch");
    expect(p.recommendations.recommendations[0]?.score).toBe(
      Math.max(...p.recommendations.recommendations.map((r) => r.score)),
    );

    // A narrower window holds fewer reports.
    const two = await profileOf(t, "/v1/fleet/nodes/build-1/profile?reports=2");
    expect(two.window).toMatchObject({ reports: 2, requestedReports: 2 });
    socket.ws.close(1000);
  });

  it("answers a node without telemetry with no class and says why, not an error", async () => {
    const t = await newTenant("profile");
    const node = await enroll(t, { nodeId: "quiet-1" });
    const p = await profileOf(t, `/v1/fleet/nodes/${node.nodeId}/profile`);
    expect(p).toMatchObject({ kind: "node", status: "offline", class: null, confidence: 0 });
    expect(p.summary).toContain("no telemetry yet");
    expect(p.window).toMatchObject({ reports: 0, oldestAt: null, newestAt: null });
    expect(p.recommendations.recommendations).toEqual([]);
    expect(p.recommendations.notes[0]).toContain("no workload class");

    // Connected, but no report yet: the same answer.
    const socket = await connectHello(node.credential);
    const online = await profileOf(t, `/v1/fleet/nodes/${node.nodeId}/profile`);
    expect(online).toMatchObject({ status: "online", class: null });
    socket.ws.close(1000);
  });

  it("refuses window sizes outside the bounds, and unknown or foreign nodes", async () => {
    const t = await newTenant("profile");
    const other = await newTenant("profile");
    await enroll(t, { nodeId: "n1" });
    await enroll(other, { nodeId: "theirs" });
    for (const reports of ["0", String(PROFILE_LIMITS.windowReportsMax + 1), "2.5", "many"]) {
      const res = await call<{ code: string; errors: Array<{ path: string }> }>(
        "GET",
        `/v1/fleet/nodes/n1/profile?reports=${reports}`,
        { token: t.reader },
      );
      expect(res.status, reports).toBe(422);
      expect(res.body.errors[0]?.path).toBe("reports");
    }
    const atMax = await profileOf(
      t,
      `/v1/fleet/nodes/n1/profile?reports=${PROFILE_LIMITS.windowReportsMax}`,
    );
    expect(atMax.window.requestedReports).toBe(PROFILE_LIMITS.windowReportsMax);
    expect((await profileOf(t, "/v1/fleet/nodes/n1/profile?reports=1")).window).toMatchObject({
      requestedReports: 1,
    });

    for (const id of ["theirs", "nobody", "bad%20id"]) {
      const res = await call("GET", `/v1/fleet/nodes/${id}/profile`, { token: t.reader });
      expect(res.status, id).toBe(id === "bad%20id" ? 422 : 404);
    }
    expect((await call("GET", "/v1/fleet/nodes/n1/profile")).status).toBe(401);
  });
});

describe("GET /v1/fleet/profile", () => {
  it("profiles a label group node by node, and the group as one", async () => {
    const t = await newTenant("profile");
    const a = await enroll(t, { nodeId: "web-a", tokenLabels: { tier: "web" } });
    const b = await enroll(t, { nodeId: "web-b", tokenLabels: { tier: "web" } });
    await enroll(t, { nodeId: "batch-a", tokenLabels: { tier: "batch" } });
    const sa = await connectHello(a.credential);
    const sb = await connectHello(b.credential);
    await sendReports(sa, 5, LATENCY);
    await sendReports(sb, 5, LATENCY);
    const g = await profileWith(t, "/v1/fleet/profile?label=tier%3Dweb&role=node", 10);
    expect(g).toMatchObject({
      kind: "group",
      selector: { labels: { tier: "web" }, role: "node" },
      target: "tier=web;role=node",
      class: "latency-sensitive",
      agreement: 1,
    });
    expect(g.nodes?.map((n) => [n.nodeId, n.class, n.reports])).toEqual([
      ["web-a", "latency-sensitive", 5],
      ["web-b", "latency-sensitive", 5],
    ]);
    expect(g.window.cpus).toBe(4);
    expect(g.recommendations.recommendations[0]?.name).toBe("latency");

    // No selector: the whole fleet, the quiet batch node included (with no reports).
    const all = await profileOf(t, "/v1/fleet/profile");
    expect(all.target).toBe("*");
    expect(all.nodes?.map((n) => n.nodeId)).toEqual(["batch-a", "web-a", "web-b"]);
    expect(all.nodes?.[0]).toMatchObject({ class: null, reports: 0, status: "offline" });

    // Nothing matches: a profile without a class that says so.
    const none = await profileOf(t, "/v1/fleet/profile?label=tier%3Dnone");
    expect(none).toMatchObject({ class: null, nodes: [], summary: "no nodes match the selector" });
    sa.ws.close(1000);
    sb.ws.close(1000);
  });

  it("answers bad selectors with 422 naming the parameter", async () => {
    const t = await newTenant("profile");
    for (const [query, path, code] of [
      ["?label=nokey", "label", "invalid_format"],
      ["?label=%3Dvalue", "label", "invalid_format"],
      ["?label=bad%20key%3Dx", "label", "invalid_key"],
      ["?label=k%3Dbad%20value", "label", "invalid_value"],
      ["?label=tier%3Dweb&label=tier%3Dbatch", "label", "conflicting_label"],
      ["?role=king", "role", undefined],
      ["?reports=0", "reports", undefined],
    ] as const) {
      const res = await call<{ errors: Array<{ path: string; code: string }> }>(
        "GET",
        `/v1/fleet/profile${query}`,
        { token: t.reader },
      );
      expect(res.status, query).toBe(422);
      expect(res.body.errors[0]?.path, query).toBe(path);
      if (code) expect(res.body.errors[0]?.code, query).toBe(code);
    }
  });

  it(`profiles at most ${PROFILE_LIMITS.groupNodesMax} nodes and refuses a wider selector`, async () => {
    const t = await newTenant("profile");
    const nowMs = Date.now();
    const row = (i: number, tier: string) => ({
      tenantId: t.id,
      id: `${tier}-${String(i).padStart(3, "0")}`,
      role: "node" as const,
      labelsJson: JSON.stringify({ tier }),
      tokenLabelsJson: JSON.stringify({ tier }),
      factsJson: JSON.stringify(FACTS),
      agentVersion: "0.1.0",
      status: "offline" as const,
      dryRun: true,
      credentialId: `cred-${tier}-${i}`,
      credentialHash: `${t.id}-${tier}-${i}`,
      credentialPrefix: "nk_test",
      enrolledAtMs: nowMs,
      enrollmentTokenId: "et_test",
      stateVersion: 0,
      updatedAtMs: nowMs,
    });
    const max = PROFILE_LIMITS.groupNodesMax;
    const rows = [
      ...Array.from({ length: max }, (_, i) => row(i, "full")),
      ...Array.from({ length: max + 1 }, (_, i) => row(i, "over")),
    ];
    // D1 binds at most 100 parameters per statement: a few rows per insert.
    for (let i = 0; i < rows.length; i += 4) {
      await db.insert(fleetNodes).values(rows.slice(i, i + 4));
    }
    const full = await profileOf(t, "/v1/fleet/profile?label=tier%3Dfull");
    expect(full.nodes).toHaveLength(max);
    const over = await call<{ errors: Array<{ path: string; code: string }> }>(
      "GET",
      "/v1/fleet/profile?label=tier%3Dover",
      { token: t.reader },
    );
    expect(over.status).toBe(422);
    expect(over.body.errors[0]).toMatchObject({ path: "label", code: "too_many_nodes" });
  });
});
