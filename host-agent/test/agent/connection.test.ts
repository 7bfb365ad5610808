import { describe, expect, it } from "vitest";
import { type ConnectionOptions, connectUrl, FleetConnection } from "../../src/agent/connection.js";
import type { CommandFrame } from "../../src/agent/dispatch.js";
import { FLEET_CLOSE_CODES } from "../../src/protocol.js";
import { fakeControlPlane, recorder, until, WELCOME } from "./fleet-helpers.js";

const HELLO = {
  type: "hello" as const,
  protocol: 1 as const,
  agentVersion: "0.1.0",
  role: "node" as const,
  labels: {},
  facts: {
    hostname: "h",
    kernelRelease: null,
    schedExt: { supported: false, state: null, ops: null, enableSeq: null },
    cpus: null,
    memory: null,
    warnings: [],
  },
  running: null,
  dryRun: true,
};

/** Backoff short enough for tests; the real bounds are RECONNECT's. */
const FAST = { baseDelayMs: 5, maxDelayMs: 20, stableAfterMs: 60_000 };

function connection(url: string, overrides: Partial<ConnectionOptions> = {}) {
  const controller = new AbortController();
  const commands: CommandFrame[] = [];
  const badCommands: string[] = [];
  const welcomes: unknown[] = [];
  const { lines, log } = recorder();
  const conn = new FleetConnection({
    controlPlaneUrl: url,
    credential: "nk_secret",
    hello: async () => HELLO,
    onWelcome: (w) => welcomes.push(w),
    onCommand: (c) => commands.push(c),
    onBadCommand: (id) => badCommands.push(id),
    log,
    signal: controller.signal,
    backoff: FAST,
    ...overrides,
  });
  return { conn, controller, commands, badCommands, welcomes, lines, running: conn.run() };
}

describe("connectUrl", () => {
  it("turns the control plane's URL into its WebSocket endpoint", () => {
    expect(connectUrl("https://cp.example/")).toBe("wss://cp.example/v1/fleet/connect");
    expect(connectUrl("http://127.0.0.1:8787")).toBe("ws://127.0.0.1:8787/v1/fleet/connect");
  });
});

describe("FleetConnection", () => {
  it("presents the credential, says hello, and after welcome sends heartbeats and passes commands on", async () => {
    const cp = await fakeControlPlane();
    const c = connection(cp.url);
    const side = await cp.nextConnection();
    expect(side.request.headers.authorization).toBe("Bearer nk_secret");
    expect(await side.next()).toEqual(HELLO);
    expect(c.conn.connected).toBe(false);
    expect(c.conn.send({ type: "heartbeat", seq: 0, atMs: 0 })).toBe(false);
    side.send(WELCOME);
    await until(() => c.conn.connected);
    expect(c.welcomes).toEqual([WELCOME]);
    expect(await side.next("heartbeat")).toMatchObject({ type: "heartbeat", seq: 0 });
    const command = {
      type: "command",
      commandId: "cmd_1",
      deadlineAtMs: 1,
      body: { op: "revert", assignmentId: null, reason: "r" },
    };
    side.send(command);
    await until(() => c.commands.length === 1);
    expect(c.commands[0]).toEqual(command);
    c.controller.abort();
    expect(await c.running).toBe("stopped");
  });

  it("refuses frames that fail the schemas, answering a malformed command by its id", async () => {
    const cp = await fakeControlPlane();
    const c = connection(cp.url);
    const side = await cp.nextConnection();
    // A command before welcome is refused too.
    side.send({
      type: "command",
      commandId: "cmd_early",
      deadlineAtMs: 1,
      body: { op: "revert", assignmentId: null, reason: "r" },
    });
    side.send(WELCOME);
    await until(() => c.conn.connected);
    side.socket.send("not json");
    side.socket.send(Buffer.from([1, 2, 3]), { binary: true });
    side.send({
      type: "command",
      commandId: "cmd_bad",
      deadlineAtMs: 1,
      body: { op: "format-disk" },
    });
    side.send({ type: "welcome", protocol: 99 });
    await until(() => c.lines.length >= 5);
    expect(c.commands).toEqual([]);
    expect(c.badCommands).toEqual(["cmd_bad"]);
    expect(c.lines.join("\n")).toMatch(
      /before welcome[\s\S]*not JSON[\s\S]*binary[\s\S]*fails the protocol/,
    );
    c.controller.abort();
    await c.running;
  });

  it("reconnects with backoff after the control plane goes away, and says hello again", async () => {
    const cp = await fakeControlPlane();
    const random = () => 0.5;
    const c = connection(cp.url, { random });
    const first = await cp.nextConnection();
    first.send(WELCOME);
    await until(() => c.conn.connected);
    first.socket.close(1012, "restarting");
    const second = await cp.nextConnection();
    expect(await second.next()).toMatchObject({ type: "hello" });
    second.send(WELCOME);
    await until(() => c.conn.connected);
    expect(
      c.lines.some((l) => /disconnected \(close 1012 restarting\).*reconnecting in 2 ms/.test(l)),
    ).toBe(true);
    c.controller.abort();
    expect(await c.running).toBe("stopped");
  });

  it("keeps retrying while nothing listens, with growing delays", async () => {
    const cp = await fakeControlPlane();
    const url = cp.url;
    await cp.close();
    const c = connection(url, { random: () => 0.999 });
    await until(() => c.lines.length >= 4);
    const delays = c.lines.slice(0, 4).map((l) => Number(/reconnecting in (\d+) ms/.exec(l)?.[1]));
    expect(delays).toEqual([4, 9, 19, 19]);
    c.controller.abort();
    expect(await c.running).toBe("stopped");
  });

  it("stops for good when the credential is refused (HTTP 401) or revoked (close 4401)", async () => {
    const refusing = await fakeControlPlane({ accept: () => 401 });
    const a = connection(refusing.url);
    expect(await a.running).toBe("revoked");
    const revoking = await fakeControlPlane();
    const b = connection(revoking.url);
    const side = await revoking.nextConnection();
    side.send(WELCOME);
    await until(() => b.conn.connected);
    side.socket.close(FLEET_CLOSE_CODES.unauthorized, "credential_revoked");
    expect(await b.running).toBe("revoked");
    expect(revoking.connections).toHaveLength(1);
  });

  it("retries other refusals, and stops on a role the control plane forbids", async () => {
    let upgrades = 0;
    const flaky = await fakeControlPlane({ accept: () => (++upgrades <= 2 ? 503 : null) });
    const a = connection(flaky.url);
    const side = await flaky.nextConnection();
    expect(upgrades).toBe(3);
    side.socket.close(FLEET_CLOSE_CODES.forbidden, "role_mismatch");
    expect(await a.running).toBe("forbidden");
  });
});
