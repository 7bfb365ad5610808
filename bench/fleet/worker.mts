/**
 * A Worker for bench/fleet: the real edgekernel Worker plus a baseline, so the runner compares
 * the Fleet object against the bare WebSocket Hibernation API in the same run, on the same kind
 * of server:
 *
 *   GET  /bench/echo             a WebSocket to EchoFleet, which answers hello with a welcome and
 *                                counts acks, storing nothing (no D1, no SQLite, no schemas)
 *   POST /bench/echo-broadcast   one command frame to every EchoFleet socket; answers when every
 *                                ack has arrived (or after 30 s) with the time it took
 */

import { DurableObject } from "cloudflare:workers";
import type { Env } from "../../src/env.js";
import worker from "../../src/index.js";

export { AgentProcess, Fleet, Scheduler } from "../../src/index.js";

const BROADCAST_TIMEOUT_MS = 30_000;

interface BenchEnv extends Env {
  ECHO_FLEET: DurableObjectNamespace<EchoFleet>;
}

export class EchoFleet extends DurableObject<BenchEnv> {
  #waiter: { open: number; resolve: () => void } | null = null;

  override async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/bench/echo-broadcast") {
      const sockets = this.ctx.getWebSockets();
      const startMs = Date.now();
      const done = new Promise<void>((resolve) => {
        this.#waiter = { open: sockets.length, resolve };
      });
      for (const [i, ws] of sockets.entries()) {
        ws.send(
          JSON.stringify({
            type: "command",
            commandId: `cmd_echo${startMs}x${i}`,
            deadlineAtMs: startMs + BROADCAST_TIMEOUT_MS,
            body: { op: "revert", assignmentId: null, reason: "echo" },
          }),
        );
      }
      const timedOut = await Promise.race([
        done.then(() => false),
        new Promise<boolean>((r) => setTimeout(() => r(true), BROADCAST_TIMEOUT_MS)),
      ]);
      const open = this.#waiter?.open ?? 0;
      this.#waiter = null;
      return Response.json({
        sent: sockets.length,
        acked: sockets.length - open,
        timedOut,
        elapsedMs: Date.now() - startMs,
      });
    }
    const pair = new WebSocketPair();
    this.ctx.acceptWebSocket(pair[1]);
    pair[1].serializeAttachment({ connectedAtMs: Date.now() });
    return new Response(null, { status: 101, webSocket: pair[0] });
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    if (typeof message !== "string") return;
    const frame = JSON.parse(message) as { type: string };
    if (frame.type === "hello") {
      ws.send(
        JSON.stringify({
          type: "welcome",
          protocol: 1,
          nodeId: "echo",
          heartbeatIntervalMs: 15_000,
          telemetryIntervalMs: 10_000,
          serverTimeMs: Date.now(),
        }),
      );
    } else if (frame.type === "ack" && this.#waiter) {
      this.#waiter.open -= 1;
      if (this.#waiter.open <= 0) this.#waiter.resolve();
    }
  }
}

export default {
  fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname === "/bench/echo" || url.pathname === "/bench/echo-broadcast") {
      return env.ECHO_FLEET.get(env.ECHO_FLEET.idFromName("echo")).fetch(request);
    }
    return worker.fetch(request, env, ctx);
  },
  queue: (batch, env) => worker.queue(batch, env),
} satisfies ExportedHandler<BenchEnv>;
