/** Fleet test helpers: enroll nodes through the API and drive their WebSockets in workerd. */

import { exports } from "cloudflare:workers";
import type { ControlFrame, NodeFacts, TelemetryReport } from "../../src/schedcp/protocol/index.js";
import { call, type TestTenant } from "../helpers.js";

export const FACTS: NodeFacts = {
  hostname: "node-a",
  kernelRelease: "6.12.0-sched-ext",
  schedExt: { supported: true, state: "disabled", ops: null, enableSeq: 0 },
  cpus: {
    onlineList: "0-1",
    onlineCount: 2,
    packageCount: 1,
    coreCount: 2,
    topology: [
      { cpu: 0, packageId: 0, coreId: 0 },
      { cpu: 1, packageId: 0, coreId: 1 },
    ],
  },
  memory: {
    totalBytes: 8_000_000_000,
    freeBytes: 4_000_000_000,
    availableBytes: 6_000_000_000,
    swapTotalBytes: 0,
    swapFreeBytes: 0,
  },
  warnings: [],
};

export function report(busyPct = 40): TelemetryReport {
  const total = {
    busyPct,
    userPct: busyPct / 2,
    systemPct: busyPct / 2,
    iowaitPct: 0,
    idlePct: 100 - busyPct,
    stealPct: 0,
  };
  return {
    intervalMs: 1000,
    cpu: { total, perCpu: [{ cpu: 0, ...total }] },
    pressure: null,
    runQueue: { meanRunDelayUs: 12.5, timeslices: 100, perCpu: [] },
    loadAvg: { load1: 0.5, load5: 0.4, load15: 0.3, runnableTasks: 1, totalTasks: 100 },
    contextSwitches: { count: 1000, perSec: 1000 },
    topProcesses: [{ pid: 42, name: "worker", cpuTicks: 50, cpuPct: 50 }],
    warnings: [],
  };
}

export function hello(overrides: Record<string, unknown> = {}) {
  return {
    type: "hello",
    protocol: 1,
    agentVersion: "0.1.0",
    role: "node",
    labels: {},
    facts: FACTS,
    running: null,
    dryRun: true,
    ...overrides,
  };
}

export interface EnrolledNode {
  nodeId: string;
  tenantId: string;
  credential: string;
  signingPublicKey: string;
  keyId: string;
}

/** Creates a token with `tokenBody` as an operator and enrolls a node with it. */
export async function enroll(
  t: TestTenant,
  options: {
    nodeId?: string;
    role?: "node" | "verifier";
    labels?: Record<string, string>;
    tokenLabels?: Record<string, string>;
  } = {},
): Promise<EnrolledNode> {
  const role = options.role ?? "node";
  const token = await call<{ token: string }>("POST", "/v1/fleet/enrollment-tokens", {
    token: t.operator,
    body: { role, labels: options.tokenLabels ?? {} },
  });
  if (token.status !== 201) throw new Error(`token: ${JSON.stringify(token.body)}`);
  const res = await call<EnrolledNode>("POST", "/v1/fleet/enroll", {
    body: {
      token: token.body.token,
      ...(options.nodeId ? { nodeId: options.nodeId } : {}),
      role,
      labels: options.labels ?? {},
      facts: FACTS,
      agentVersion: "0.1.0",
    },
  });
  if (res.status !== 201) throw new Error(`enroll: ${JSON.stringify(res.body)}`);
  return res.body;
}

/** A node's end of a WebSocket to /v1/fleet/connect, with its incoming frames queued. */
export interface NodeSocket {
  ws: WebSocket;
  send(frame: unknown): void;
  sendRaw(data: string | ArrayBuffer): void;
  /** The next frame from the control plane (optionally of one type, skipping none). */
  next(): Promise<ControlFrame>;
  closed: Promise<{ code: number; reason: string }>;
}

/** Opens the WebSocket with `credential`; throws with the HTTP status when it is refused. */
export async function connect(credential: string): Promise<NodeSocket> {
  const res = await (exports as unknown as { default: Fetcher }).default.fetch(
    "https://edgekernel.test/v1/fleet/connect",
    { headers: { upgrade: "websocket", authorization: `Bearer ${credential}` } },
  );
  const ws = res.webSocket;
  if (res.status !== 101 || !ws) {
    throw Object.assign(new Error(`connect refused: ${res.status} ${await res.text()}`), {
      status: res.status,
    });
  }
  ws.accept();
  const queue: ControlFrame[] = [];
  const waiting: Array<(frame: ControlFrame) => void> = [];
  ws.addEventListener("message", (event) => {
    const frame = JSON.parse(event.data as string) as ControlFrame;
    const waiter = waiting.shift();
    if (waiter) waiter(frame);
    else queue.push(frame);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.addEventListener("close", (event) => resolve({ code: event.code, reason: event.reason }));
  });
  return {
    ws,
    send: (frame) => ws.send(JSON.stringify(frame)),
    sendRaw: (data) => ws.send(data),
    next: () => {
      const frame = queue.shift();
      if (frame) return Promise.resolve(frame);
      return new Promise((resolve) => waiting.push(resolve));
    },
    closed,
  };
}

/** Connects and says hello; resolves after the welcome. */
export async function connectHello(
  credential: string,
  overrides: Record<string, unknown> = {},
): Promise<NodeSocket> {
  const socket = await connect(credential);
  socket.send(hello(overrides));
  const welcome = await socket.next();
  if (welcome.type !== "welcome") throw new Error(`expected welcome: ${JSON.stringify(welcome)}`);
  return socket;
}

/**
 * Sends a heartbeat on `socket` every `intervalMs` until the returned stop is called. Tests set
 * the heartbeat interval to one second, so a node that only listens is closed after three
 * silent seconds; a test that waits on other work (an agent's run) longer than that under load
 * keeps its nodes alive with this instead of racing the timeout.
 */
export function keepAlive(socket: NodeSocket, intervalMs = 250): () => void {
  let seq = 0;
  const timer = setInterval(() => {
    seq += 1;
    try {
      socket.send({ type: "heartbeat", seq, atMs: Date.now() });
    } catch {
      clearInterval(timer); // the socket closed (the test failed or closed it): nothing to keep
    }
  }, intervalMs);
  return () => clearInterval(timer);
}

/** Polls `read` until `done` holds (bounded by tries, not by a time threshold). */
export async function eventually<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  tries = 200,
): Promise<T> {
  let last: T | undefined;
  for (let i = 0; i < tries; i++) {
    last = await read();
    if (done(last)) return last;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`condition not reached: ${JSON.stringify(last)}`);
}
