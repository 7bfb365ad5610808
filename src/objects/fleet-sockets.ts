/**
 * The Fleet object's sockets: what each carries across hibernation (its attachment), the tags
 * that find a node's socket, which sockets speak for their node now, and sending or refusing on
 * a socket without throwing. Separate from the object because these are plain functions of a
 * WebSocket: the connect route, the frame handler, the command dispatcher and the alarm's sweep
 * all use them, and none of them needs the object's storage.
 */

import type { FrameRefusal } from "../schedcp/fleet/frames.js";
import type { ControlFrame } from "../schedcp/protocol/index.js";
import type { ConnectIdentity } from "./fleet-types.js";

/** What each socket carries across hibernation (`serializeAttachment`, at most 2 KiB). */
export interface SocketAttachment {
  nodeId: string;
  connId: string;
  credentialId: string;
  role: ConnectIdentity["role"];
  connectedAtMs: number;
  hello: boolean;
}

/** Workers allow at most this many tags per WebSocket. */
const MAX_SOCKET_TAGS = 10;

/**
 * The tag that finds a node's sockets.
 *
 * @example ctx.getWebSockets(nodeTag("node_01")) // the sockets tagged `node:node_01`
 */
export function nodeTag(nodeId: string): string {
  return `node:${nodeId}`;
}

/**
 * Tags of a node's socket: its id, its role and as many `label:k=v` as fit. The object's node
 * table, not the tags, is what selectors are resolved against, so labels past the tag limit
 * still select.
 *
 * @example socketTags({ nodeId: "n1", role: "node", labels: { zone: "a" } }) // ["node:n1", "role:node", "label:zone=a"]
 */
export function socketTags(
  identity: Pick<ConnectIdentity, "nodeId" | "role" | "labels">,
): string[] {
  const labels = Object.keys(identity.labels)
    .sort()
    .map((key) => `label:${key}=${identity.labels[key]}`);
  return [nodeTag(identity.nodeId), `role:${identity.role}`, ...labels].slice(0, MAX_SOCKET_TAGS);
}

/**
 * The socket's attachment, or null for a socket the object did not accept.
 *
 * @example const att = attachmentOf(ws); if (att?.hello) … // the node said hello on ws
 */
export function attachmentOf(ws: WebSocket): SocketAttachment | null {
  return (ws.deserializeAttachment() as SocketAttachment | null) ?? null;
}

/**
 * Sockets that said hello and still speak for their node, by node id.
 *
 * @example helloedSockets(ctx.getWebSockets(), store.nodes.routing()).get(nodeId)
 */
export function helloedSockets(
  sockets: readonly WebSocket[],
  routing: ReadonlyArray<{ node_id: string; conn_id: string | null; status: string }>,
): Map<string, WebSocket> {
  const byNode = new Map<string, WebSocket>();
  const current = new Map(
    routing.filter((r) => r.status === "online").map((r) => [r.node_id, r.conn_id]),
  );
  for (const ws of sockets) {
    const att = attachmentOf(ws);
    if (att?.hello && current.get(att.nodeId) === att.connId) byNode.set(att.nodeId, ws);
  }
  return byNode;
}

/**
 * Tells the node why and closes its socket (nothing is stored).
 *
 * @example refuse(ws, { closeCode: FLEET_CLOSE_CODES.badFrame, error: { code: "hello_expected", message: "…" } })
 */
export function refuse(ws: WebSocket, refusal: FrameRefusal): void {
  trySend(ws, { type: "error", error: refusal.error });
  try {
    ws.close(refusal.closeCode, refusal.error.code);
  } catch {
    // already closing
  }
}

/**
 * Sends a control frame; false when the socket is closed or closing.
 *
 * @example trySend(ws, { type: "error", error: { code: "replaced", message: "…" } })
 */
export function trySend(ws: WebSocket, frame: ControlFrame): boolean {
  return trySendText(ws, JSON.stringify(frame));
}

/**
 * Sends an encoded frame; false when the socket is closed or closing.
 *
 * @example trySendText(ws, `{"type":"command",…}`)
 */
export function trySendText(ws: WebSocket, text: string): boolean {
  try {
    ws.send(text);
    return true;
  } catch {
    return false;
  }
}
