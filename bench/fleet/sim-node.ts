/**
 * A simulated host-agent for the benchmark: a real WebSocket with its own enrolled credential,
 * speaking the protocol as host-agent does (hello, heartbeats at the welcome's interval, one ack
 * per command), without reading /proc or deploying anything. It records when each command
 * arrived, so the runner can tell delivery from acknowledgement.
 */

import WebSocket from "ws";
import type { ControlFrame, NodeFacts } from "../../src/schedcp/protocol/index.js";

const FACTS: NodeFacts = {
  hostname: "sim",
  kernelRelease: "6.12.0-sim",
  schedExt: { supported: true, state: "disabled", ops: null, enableSeq: 0 },
  cpus: null,
  memory: null,
  warnings: [],
};

export class SimNode {
  #ws: WebSocket | null = null;
  #heartbeat: NodeJS.Timeout | null = null;
  /** When each command arrived (performance.now()), by command id. */
  readonly received = new Map<string, number>();

  constructor(
    readonly nodeId: string,
    private readonly credential: string,
  ) {}

  static facts(): NodeFacts {
    return FACTS;
  }

  /** Connects, says hello and resolves at the welcome. */
  connect(wsUrl: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(wsUrl, { headers: { authorization: `Bearer ${this.credential}` } });
      this.#ws = ws;
      let welcomed = false;
      ws.on("error", (error) => {
        if (!welcomed) reject(error);
      });
      ws.on("open", () =>
        ws.send(
          JSON.stringify({
            type: "hello",
            protocol: 1,
            agentVersion: "bench",
            role: "node",
            labels: {},
            facts: FACTS,
            running: null,
            dryRun: true,
          }),
        ),
      );
      ws.on("message", (data) => {
        const frame = JSON.parse(data.toString()) as ControlFrame;
        if (frame.type === "welcome") {
          welcomed = true;
          let seq = 0;
          this.#heartbeat = setInterval(
            () => ws.send(JSON.stringify({ type: "heartbeat", seq: seq++, atMs: Date.now() })),
            frame.heartbeatIntervalMs,
          );
          resolve();
        } else if (frame.type === "command") {
          this.received.set(frame.commandId, performance.now());
          ws.send(
            JSON.stringify({ type: "ack", commandId: frame.commandId, ok: true, error: null }),
          );
        } else if (frame.type === "error") {
          reject(new Error(`${this.nodeId}: ${frame.error.code}: ${frame.error.message}`));
        }
      });
    });
  }

  close(): void {
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    this.#ws?.close(1000, "bench done");
  }
}
