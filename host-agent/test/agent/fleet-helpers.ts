/** Helpers for the agent tests: signed assignments, a recording logger, a local fleet server. */

import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { onTestFinished } from "vitest";
import { type WebSocket, WebSocketServer } from "ws";
import {
  generateSigningKey,
  importSigningKey,
  type SigningKey,
  signAssignment,
} from "../../../src/schedcp/signing.js";
import type { Assignment, ControlFrame, NodeFrame } from "../../src/protocol.js";

/** The control plane's key as a node pins it: raw public key (base64url) and key id. */
export interface TrustAnchor {
  publicKey: string;
  keyId: string;
}

export interface TestKey {
  key: SigningKey;
  trust: TrustAnchor;
}

export async function testKey(): Promise<TestKey> {
  const key = await importSigningKey(await generateSigningKey());
  return { key, trust: { publicKey: key.publicKey, keyId: key.keyId } };
}

export function sha256(bytes: Uint8Array | string): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** A signed assignment of a BPF object with these bytes (or with the overrides applied after signing). */
export async function signedAssignment(
  key: SigningKey,
  bytes: Uint8Array,
  options: {
    expiresAtMs?: number;
    id?: string;
    tamper?: (a: Assignment) => Assignment;
    guards?: Assignment["guards"];
  } = {},
): Promise<Assignment> {
  const payload = {
    policyId: "spol_fifo",
    version: 1,
    artifactSha256: sha256(bytes),
    parameters: { slice_us: 5000 },
    expiresAtMs: options.expiresAtMs ?? Date.now() + 3_600_000,
  };
  const assignment: Assignment = {
    assignmentId: options.id ?? "asg_1",
    rolloutId: null,
    payload,
    artifact: { kind: "bpf-object", sizeBytes: bytes.byteLength, opsName: "fifo" },
    guards: options.guards ?? [],
    signature: await signAssignment(key, payload),
    keyId: key.keyId,
  };
  return options.tamper ? options.tamper(assignment) : assignment;
}

/** Collects log lines. */
export function recorder() {
  const lines: string[] = [];
  return { lines, log: (line: string) => lines.push(line) };
}

/** Waits until `check` is true, polling (bounded by tries, not a time threshold). */
export async function until(check: () => boolean, tries = 400): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error("condition not reached");
}

/** One node connection as the fake control plane sees it. */
export interface ServerSide {
  socket: WebSocket;
  request: IncomingMessage;
  frames: NodeFrame[];
  send(frame: ControlFrame | Record<string, unknown>): void;
  next(type?: string): Promise<NodeFrame>;
}

/**
 * A stand-in control plane on a free local port: an HTTP server (artifact downloads, uploads)
 * with a WebSocket server at /v1/fleet/connect. `accept` decides each upgrade (status to refuse).
 */
export async function fakeControlPlane(
  options: {
    accept?: (request: IncomingMessage) => number | null;
    artifacts?: Map<string, Uint8Array>;
    /** Artifact downloads wait for this before answering. */
    artifactGate?: Promise<void>;
    uploads?: Array<{ path: string; bytes: Buffer }>;
  } = {},
) {
  const connections: ServerSide[] = [];
  const waiting: Array<(side: ServerSide) => void> = [];
  const http: Server = createServer((req, res) => {
    const match = /^\/v1\/fleet\/artifacts\/([0-9a-f]{64})$/.exec(req.url ?? "");
    if (req.method === "GET" && match) {
      const bytes = options.artifacts?.get(match[1] ?? "");
      if (!bytes) return void res.writeHead(404).end();
      void (options.artifactGate ?? Promise.resolve()).then(() =>
        res.writeHead(200, { "content-type": "application/octet-stream" }).end(bytes),
      );
      return;
    }
    if (req.method === "PUT") {
      const chunks: Buffer[] = [];
      req.on("data", (c) => chunks.push(c));
      req.on("end", () => {
        options.uploads?.push({ path: req.url ?? "", bytes: Buffer.concat(chunks) });
        res.writeHead(204).end();
      });
      return;
    }
    res.writeHead(404).end();
  });
  const wss = new WebSocketServer({ noServer: true });
  http.on("upgrade", (request, socket, head) => {
    const refuse = options.accept?.(request) ?? null;
    if (refuse !== null) {
      socket.end(`HTTP/1.1 ${refuse} Refused\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      const frames: NodeFrame[] = [];
      ws.on("message", (data) => frames.push(JSON.parse(data.toString()) as NodeFrame));
      let cursor = 0;
      const side: ServerSide = {
        socket: ws,
        request,
        frames,
        send: (frame) => ws.send(JSON.stringify(frame)),
        next: async (type) => {
          for (let i = 0; i < 2_000; i++) {
            while (cursor < frames.length) {
              const frame = frames[cursor++] as NodeFrame;
              if (!type || frame.type === type) return frame;
            }
            await new Promise((r) => setTimeout(r, 5));
          }
          throw new Error(`no ${type ?? "frame"} from the node`);
        },
      };
      connections.push(side);
      const waiter = waiting.shift();
      if (waiter) waiter(side);
    });
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const port = (http.address() as AddressInfo).port;
  let accepted = 0;
  const server = {
    url: `http://127.0.0.1:${port}`,
    connections,
    /** The next connection (in arrival order) once it is open. */
    nextConnection(): Promise<ServerSide> {
      const ready = connections[accepted];
      accepted += 1;
      if (ready) return Promise.resolve(ready);
      return new Promise((resolve) => waiting.push(resolve));
    },
    close: async () => {
      for (const client of wss.clients) client.terminate();
      wss.close();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
  onTestFinished(() => server.close().catch(() => {}));
  return server;
}

export const WELCOME = {
  type: "welcome",
  protocol: 1,
  nodeId: "n1",
  heartbeatIntervalMs: 1_000,
  telemetryIntervalMs: 100,
  serverTimeMs: 0,
} as const;
