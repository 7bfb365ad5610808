import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { FLEET_CLOSE_CODES, FLEET_LIMITS } from "../../src/schedcp/protocol/index.js";
import { call, newTenant } from "../helpers.js";
import { connect, connectHello, enroll, eventually, hello, report } from "./helpers.js";

interface NodeView {
  status: string;
  labels: Record<string, string>;
  running: unknown;
  dryRun: boolean;
  facts: { hostname: string | null };
  lastTelemetry: { seq: number; report: { cpu: { total: { busyPct: number } } } } | null;
}

async function nodeView(token: string, id: string) {
  return (await call<NodeView>("GET", `/v1/fleet/nodes/${id}`, { token })).body;
}

async function telemetryCount(token: string, id: string) {
  const res = await call<{ items: unknown[] }>("GET", `/v1/fleet/nodes/${id}/telemetry`, {
    token,
  });
  return res.body.items.length;
}

describe("connecting", () => {
  it("says hello, gets welcome with the intervals, and the node is online in D1", async () => {
    const t = await newTenant("fleet");
    const node = await enroll(t, { tokenLabels: { tier: "canary" } });
    const socket = await connect(node.credential);
    socket.send(
      hello({ labels: { zone: "a", tier: "x" }, facts: { ...helloFacts(), hostname: "renamed" } }),
    );
    const welcome = await socket.next();
    expect(welcome).toMatchObject({
      type: "welcome",
      protocol: 1,
      nodeId: node.nodeId,
      heartbeatIntervalMs: 1000,
      telemetryIntervalMs: 1000,
    });
    const view = await nodeView(t.reader, node.nodeId);
    expect(view).toMatchObject({
      status: "online",
      dryRun: true,
      labels: { tier: "canary", zone: "a" },
    });
    expect(view.facts.hostname).toBe("renamed");
    const listed = await call<{ items: Array<{ id: string; status: string }> }>(
      "GET",
      "/v1/fleet/nodes?status=online",
      { token: t.reader },
    );
    expect(listed.body.items.map((n) => n.id)).toEqual([node.nodeId]);
    socket.ws.close(1000, "bye");
    await eventually(
      () => nodeView(t.reader, node.nodeId),
      (v) => v.status === "offline",
    );
  });

  it("refuses a missing or unknown credential, an API key, and a request without Upgrade", async () => {
    const t = await newTenant("fleet");
    const node = await enroll(t);
    await expect(connect("nk_unknown")).rejects.toMatchObject({ status: 401 });
    await expect(connect(t.operator)).rejects.toMatchObject({ status: 401 });
    const plain = await (exports as unknown as { default: Fetcher }).default.fetch(
      "https://edgekernel.test/v1/fleet/connect",
      { headers: { authorization: `Bearer ${node.credential}` } },
    );
    expect(plain.status).toBe(426);
    expect(((await plain.json()) as { code: string }).code).toBe("upgrade_required");
    const none = await (exports as unknown as { default: Fetcher }).default.fetch(
      "https://edgekernel.test/v1/fleet/connect",
      { headers: { upgrade: "websocket" } },
    );
    expect(none.status).toBe(401);
  });
});

function helloFacts() {
  return hello().facts;
}

describe("frames the control plane refuses", () => {
  const cases: Array<[string, string | ArrayBuffer, number, string]> = [
    ["malformed JSON", '{"type":', FLEET_CLOSE_CODES.badFrame, "malformed_json"],
    ["an unknown frame type", '{"type":"gossip"}', FLEET_CLOSE_CODES.badFrame, "bad_frame"],
    [
      "telemetry out of range",
      JSON.stringify({
        type: "telemetry",
        atMs: 1,
        report: { ...report(), cpu: { total: { busyPct: 200 } } },
      }),
      FLEET_CLOSE_CODES.badFrame,
      "bad_frame",
    ],
    [
      "a binary frame",
      new Uint8Array([1, 2, 3]).buffer,
      FLEET_CLOSE_CODES.unsupportedData,
      "binary_frame",
    ],
    [
      "a frame over the size limit",
      JSON.stringify({
        type: "heartbeat",
        seq: 1,
        atMs: 1,
        pad: "x".repeat(FLEET_LIMITS.maxFrameBytes),
      }),
      FLEET_CLOSE_CODES.frameTooLarge,
      "frame_too_large",
    ],
  ];

  it.each(cases)(
    "%s: an error frame, a 4xxx close, nothing stored",
    async (_name, data, code, errorCode) => {
      const t = await newTenant("fleet");
      const node = await enroll(t);
      const socket = await connectHello(node.credential);
      socket.sendRaw(data);
      const error = await socket.next();
      expect(error).toMatchObject({ type: "error", error: { code: errorCode } });
      expect((await socket.closed).code).toBe(code);
      expect(await telemetryCount(t.reader, node.nodeId)).toBe(0);
      await eventually(
        () => nodeView(t.reader, node.nodeId),
        (v) => v.status === "offline",
      );
    },
  );

  it("wants hello first, once, with the enrolled role", async () => {
    const t = await newTenant("fleet");
    const node = await enroll(t);
    const early = await connect(node.credential);
    early.send({ type: "telemetry", atMs: 1, report: report() });
    expect(await early.next()).toMatchObject({ type: "error", error: { code: "hello_expected" } });
    expect((await early.closed).code).toBe(FLEET_CLOSE_CODES.badFrame);

    const twice = await connectHello(node.credential);
    twice.send(hello());
    expect(await twice.next()).toMatchObject({ error: { code: "hello_repeated" } });
    expect((await twice.closed).code).toBe(FLEET_CLOSE_CODES.badFrame);

    const role = await connect(node.credential);
    role.send(hello({ role: "verifier" }));
    expect(await role.next()).toMatchObject({ error: { code: "role_mismatch" } });
    expect((await role.closed).code).toBe(FLEET_CLOSE_CODES.forbidden);
    expect(await telemetryCount(t.reader, node.nodeId)).toBe(0);
  });

  it("refuses verify-result from a node that is not a verifier", async () => {
    const t = await newTenant("fleet");
    const node = await enroll(t);
    const socket = await connectHello(node.credential);
    socket.send({
      type: "verify-result",
      result: {
        jobId: "vjob_1",
        ok: true,
        stages: [],
        loaded: true,
        tasksScheduled: 1,
        ejected: false,
        ejectionReason: null,
        unloadedCleanly: true,
        kernelRelease: null,
        object: null,
      },
    });
    expect(await socket.next()).toMatchObject({ error: { code: "not_a_verifier" } });
    expect((await socket.closed).code).toBe(FLEET_CLOSE_CODES.forbidden);
  });
});

describe("telemetry", () => {
  it("keeps the last report on the node and a history, newest first, in pages", async () => {
    const t = await newTenant("fleet");
    const node = await enroll(t);
    const socket = await connectHello(node.credential);
    for (const busy of [10, 20, 30])
      socket.send({ type: "telemetry", atMs: 1_000 + busy, report: report(busy) });
    const view = await eventually(
      () => nodeView(t.reader, node.nodeId),
      (v) => v.lastTelemetry?.seq === 3,
    );
    expect(view.lastTelemetry?.report.cpu.total.busyPct).toBe(30);
    const page1 = await call<{ items: Array<{ seq: number }>; nextCursor: string }>(
      "GET",
      `/v1/fleet/nodes/${node.nodeId}/telemetry?limit=2`,
      { token: t.reader },
    );
    expect(page1.body.items.map((i) => i.seq)).toEqual([3, 2]);
    const page2 = await call<{ items: Array<{ seq: number }>; nextCursor: string | null }>(
      "GET",
      `/v1/fleet/nodes/${node.nodeId}/telemetry?limit=2&cursor=${page1.body.nextCursor}`,
      { token: t.reader },
    );
    expect(page2.body.items.map((i) => i.seq)).toEqual([1]);
    expect(page2.body.nextCursor).toBeNull();
    const bad = await call<{ code: string }>(
      "GET",
      `/v1/fleet/nodes/${node.nodeId}/telemetry?cursor=!!`,
      { token: t.reader },
    );
    expect(bad.status).toBe(422);
    socket.ws.close(1000);
  });
});

describe("commands", () => {
  it("sends a revert and returns the node's ack", async () => {
    const t = await newTenant("fleet");
    const node = await enroll(t);
    const socket = await connectHello(node.credential);
    const pending = call<{
      results: Array<Record<string, unknown>>;
      counts: Record<string, number>;
    }>("POST", "/v1/fleet/commands", {
      token: t.operator,
      body: { target: { nodeIds: [node.nodeId] }, command: { op: "revert", reason: "test" } },
    });
    const command = await socket.next();
    expect(command).toMatchObject({
      type: "command",
      body: { op: "revert", assignmentId: null, reason: "test" },
    });
    if (command.type !== "command") throw new Error("expected a command");
    expect(command.deadlineAtMs).toBeGreaterThan(Date.now());
    socket.send({ type: "ack", commandId: command.commandId, ok: true, error: null });
    const res = await pending;
    expect(res.status).toBe(200);
    expect(res.body.counts).toMatchObject({ acked: 1, timed_out: 0 });
    expect(res.body.results[0]).toMatchObject({
      commandId: command.commandId,
      nodeId: node.nodeId,
      status: "acked",
      error: null,
    });
    expect(res.body.results[0]?.latencyMs).toBeGreaterThanOrEqual(0);
    socket.ws.close(1000);
  });

  it("reports a refusal, a timeout and an offline node, each per node", async () => {
    const t = await newTenant("fleet");
    const refusing = await enroll(t, { nodeId: "refuses", tokenLabels: { pool: "p" } });
    const silent = await enroll(t, { nodeId: "silent", tokenLabels: { pool: "p" } });
    const away = await enroll(t, { nodeId: "away", tokenLabels: { pool: "p" } });
    // "away" said hello once, then left: it is known to the object but offline.
    const brief = await connectHello(away.credential);
    brief.ws.close(1000);
    await eventually(
      () => nodeView(t.reader, "away"),
      (v) => v.status === "offline",
    );
    const a = await connectHello(refusing.credential);
    const b = await connectHello(silent.credential);
    const pending = call<{ results: Array<{ nodeId: string; status: string; error: unknown }> }>(
      "POST",
      "/v1/fleet/commands",
      {
        token: t.operator,
        body: {
          target: { selector: { labels: { pool: "p" } } },
          command: { op: "revert", reason: "test" },
          timeoutMs: 1000,
        },
      },
    );
    const command = await a.next();
    if (command.type !== "command") throw new Error("expected a command");
    a.send({
      type: "ack",
      commandId: command.commandId,
      ok: false,
      error: { code: "not_running", message: "nothing to revert" },
    });
    expect((await b.next()).type).toBe("command"); // and never answered
    const res = await pending;
    const byNode = Object.fromEntries(res.body.results.map((r) => [r.nodeId, r]));
    expect(byNode.refuses).toMatchObject({ status: "failed", error: { code: "not_running" } });
    expect(byNode.silent).toMatchObject({ status: "timed_out" });
    expect(byNode.away).toMatchObject({ status: "offline" });
    // A late ack changes nothing.
    a.ws.close(1000);
    b.ws.close(1000);
  });

  it("refuses a bad command body and an empty or oversize target", async () => {
    const t = await newTenant("fleet");
    for (const body of [
      { target: { nodeIds: [] }, command: { op: "revert", reason: "x" } },
      { target: { nodeIds: ["a"] }, command: { op: "assign", reason: "x" } },
      { target: { nodeIds: ["a"] }, command: { op: "revert", reason: "x" }, timeoutMs: 999 },
      {
        target: { nodeIds: Array.from({ length: 1001 }, (_, i) => `n${i}`) },
        command: { op: "revert", reason: "x" },
      },
    ]) {
      const res = await call("POST", "/v1/fleet/commands", { token: t.operator, body });
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(422);
    }
    expect(
      (
        await call("POST", "/v1/fleet/commands", {
          token: t.reader,
          body: { target: { nodeIds: ["a"] }, command: { op: "revert", reason: "x" } },
        })
      ).status,
    ).toBe(403);
  });
});

describe("deploy transitions", () => {
  it("records each deploy-status as the node's history and updates what runs", async () => {
    const t = await newTenant("fleet");
    const node = await enroll(t);
    const socket = await connectHello(node.credential);
    const running = { assignmentId: "asg_1", policyId: "spol_fifo", version: 2 };
    const status = (state: string, now: typeof running | null) => ({
      type: "deploy-status",
      assignmentId: "asg_1",
      policyId: "spol_fifo",
      version: 2,
      state,
      reason: null,
      running: now,
      dryRun: true,
      atMs: Date.now(),
    });
    socket.send(status("active", running));
    await eventually(
      () => nodeView(t.reader, node.nodeId),
      (v) => JSON.stringify(v.running) === JSON.stringify(running),
    );
    const listed = await call<{ items: Array<{ running: unknown }> }>("GET", "/v1/fleet/nodes", {
      token: t.reader,
    });
    expect(listed.body.items[0]?.running).toEqual(running);
    socket.send(status("stopped", null));
    const events = await eventually(
      () =>
        call<{ items: Array<{ seq: number; status: { state: string } }> }>(
          "GET",
          `/v1/fleet/nodes/${node.nodeId}/events`,
          { token: t.reader },
        ),
      (r) => r.body.items.length === 2,
    );
    expect(events.body.items.map((e) => [e.seq, e.status.state])).toEqual([
      [2, "stopped"],
      [1, "active"],
    ]);
    expect((await nodeView(t.reader, node.nodeId)).running).toBeNull();
    socket.ws.close(1000);
  });
});

describe("one connection per node", () => {
  it("a reconnect replaces the old socket, and commands reach the new one", async () => {
    const t = await newTenant("fleet");
    const node = await enroll(t);
    const first = await connectHello(node.credential);
    const second = await connect(node.credential);
    expect(await first.next()).toMatchObject({ type: "error", error: { code: "replaced" } });
    expect((await first.closed).code).toBe(FLEET_CLOSE_CODES.replaced);
    second.send(hello());
    expect((await second.next()).type).toBe("welcome");
    expect((await nodeView(t.reader, node.nodeId)).status).toBe("online");
    const pending = call<{ counts: Record<string, number> }>("POST", "/v1/fleet/commands", {
      token: t.operator,
      body: { target: { nodeIds: [node.nodeId] }, command: { op: "revert", reason: "r" } },
    });
    const command = await second.next();
    if (command.type !== "command") throw new Error("expected a command");
    second.send({ type: "ack", commandId: command.commandId, ok: true, error: null });
    expect((await pending).body.counts.acked).toBe(1);
    second.ws.close(1000);
  });

  it("revocation closes the socket at once and refuses the credential from then on", async () => {
    const t = await newTenant("fleet");
    const node = await enroll(t);
    const socket = await connectHello(node.credential);
    const revoked = await call<{ revokedAt: string | null; status: string }>(
      "DELETE",
      `/v1/fleet/nodes/${node.nodeId}`,
      { token: t.operator },
    );
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ status: "offline" });
    expect(revoked.body.revokedAt).not.toBeNull();
    expect(await socket.next()).toMatchObject({ error: { code: "credential_revoked" } });
    expect((await socket.closed).code).toBe(FLEET_CLOSE_CODES.unauthorized);
    await expect(connect(node.credential)).rejects.toMatchObject({ status: 401 });
    // Idempotent, listed only on request.
    expect(
      (await call("DELETE", `/v1/fleet/nodes/${node.nodeId}`, { token: t.operator })).status,
    ).toBe(200);
    const live = await call<{ items: unknown[] }>("GET", "/v1/fleet/nodes", { token: t.reader });
    expect(live.body.items).toHaveLength(0);
    const all = await call<{ items: unknown[] }>("GET", "/v1/fleet/nodes?revoked=include", {
      token: t.reader,
    });
    expect(all.body.items).toHaveLength(1);
    const audit = await call<{ items: Array<{ action: string; decision: string }> }>(
      "GET",
      "/v1/audit?action=fleet.node.revoke",
      { token: t.admin },
    );
    expect(audit.body.items[0]).toMatchObject({ decision: "allow" });
  });

  it("closes a node that stops talking, after the missed heartbeats", async () => {
    const t = await newTenant("fleet");
    const node = await enroll(t);
    const socket = await connectHello(node.credential);
    // Heartbeats are due every second in tests; three missed and the alarm closes the socket.
    expect(await socket.next()).toMatchObject({ error: { code: "heartbeat_timeout" } });
    expect((await socket.closed).code).toBe(FLEET_CLOSE_CODES.heartbeatTimeout);
    expect((await nodeView(t.reader, node.nodeId)).status).toBe("offline");
  });
});
