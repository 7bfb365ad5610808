/**
 * The node's WebSocket to the control plane (`/v1/fleet/connect`), kept open for as long as the
 * agent runs: hello on every connect, welcome back, heartbeats at the interval the welcome
 * gives, and on any loss a reconnect after an exponential, fully jittered delay. Only a revoked
 * credential (HTTP 401, close 4401) or a refused role (close 4403) ends it: retrying cannot fix
 * those. Frames from the control plane are parsed with the protocol's schemas; anything else is
 * refused (logged, never acted on).
 *
 * Uses the `ws` package: Node 20's global WebSocket is behind a flag there.
 */

import { setTimeout as sleep } from "node:timers/promises";
import WebSocket from "ws";
import type { z } from "zod";
import {
  ControlFrameSchema,
  FLEET_CLOSE_CODES,
  FLEET_LIMITS,
  type NodeFrame,
  type WelcomeSchema,
} from "../protocol.js";
import { type BackoffPolicy, RECONNECT, reconnectDelayMs } from "./backoff.js";
import type { CommandFrame } from "./dispatch.js";

export type HelloFrame = Extract<NodeFrame, { type: "hello" }>;
export type WelcomeFrame = z.infer<typeof WelcomeSchema>;

/** How long the WebSocket handshake may take before the attempt counts as failed. */
export const HANDSHAKE_TIMEOUT_MS = 15_000;

/** Why `run` returned. */
export type ConnectionEnd = "stopped" | "revoked" | "forbidden";

export interface ConnectionOptions {
  /** The control plane's base URL (http or https); the WebSocket URL is derived from it. */
  controlPlaneUrl: string;
  credential: string;
  /** Builds the hello for each connection (facts are read afresh). */
  hello: () => Promise<HelloFrame>;
  onWelcome: (welcome: WelcomeFrame) => void;
  onCommand: (command: CommandFrame) => void;
  /** A command frame that failed the schema but names its id: it can still be answered. */
  onBadCommand?: (commandId: string, message: string) => void;
  /** Called when a connection that had been welcomed ends. */
  onDisconnect?: (code: number) => void;
  log: (line: string) => void;
  signal: AbortSignal;
  random?: () => number;
  backoff?: BackoffPolicy & { stableAfterMs: number };
}

/** `https://cp.example/` → `wss://cp.example/v1/fleet/connect`. */
export function connectUrl(controlPlaneUrl: string): string {
  const url = new URL("/v1/fleet/connect", controlPlaneUrl);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.toString();
}

interface Attempt {
  /** When the welcome arrived; null if it never did. */
  welcomedAtMs: number | null;
  code: number;
  reason: string;
  /** HTTP status of a refused upgrade. */
  httpStatus: number | null;
}

export class FleetConnection {
  #ws: WebSocket | null = null;
  #welcomed = false;
  readonly #random: () => number;
  readonly #backoff: BackoffPolicy & { stableAfterMs: number };

  constructor(private readonly options: ConnectionOptions) {
    this.#random = options.random ?? Math.random;
    this.#backoff = options.backoff ?? RECONNECT;
  }

  /** Whether a welcomed connection is open (frames sent now go out). */
  get connected(): boolean {
    return this.#welcomed && this.#ws?.readyState === WebSocket.OPEN;
  }

  /**
   * Sends a frame on the welcomed connection; false when there is none (the caller decides
   * whether to keep it for later).
   */
  send(frame: NodeFrame): boolean {
    if (!this.connected || !this.#ws) return false;
    this.#ws.send(JSON.stringify(frame));
    return true;
  }

  /**
   * Connects and reconnects until stopped (the signal), or until the control plane refuses this
   * node for good.
   *
   * @example const end = await new FleetConnection(options).run(); // "stopped" | "revoked" | "forbidden"
   */
  async run(): Promise<ConnectionEnd> {
    const { log, signal } = this.options;
    let attempt = 0;
    while (!signal.aborted) {
      const startedMs = Date.now();
      const result = await this.#connectOnce();
      if (signal.aborted) return "stopped";
      if (result.httpStatus === 401 || result.code === FLEET_CLOSE_CODES.unauthorized) {
        log("the control plane refused this node's credential (revoked or unknown): enroll again");
        return "revoked";
      }
      if (result.code === FLEET_CLOSE_CODES.forbidden) {
        log(`the control plane refused this node: ${result.reason}`);
        return "forbidden";
      }
      const upMs = result.welcomedAtMs === null ? 0 : Date.now() - result.welcomedAtMs;
      if (upMs >= this.#backoff.stableAfterMs) attempt = 0;
      const delayMs = reconnectDelayMs(attempt, this.#random, this.#backoff);
      attempt += 1;
      const why =
        result.httpStatus !== null
          ? `HTTP ${result.httpStatus}`
          : `close ${result.code} ${result.reason}`.trim();
      log(
        `disconnected (${why}) after ${Date.now() - startedMs} ms; reconnecting in ${delayMs} ms (attempt ${attempt})`,
      );
      try {
        await sleep(delayMs, undefined, { signal });
      } catch {
        return "stopped";
      }
    }
    return "stopped";
  }

  #connectOnce(): Promise<Attempt> {
    const { options } = this;
    return new Promise<Attempt>((resolve) => {
      const attempt: Attempt = { welcomedAtMs: null, code: 1006, reason: "", httpStatus: null };
      let heartbeat: NodeJS.Timeout | null = null;
      let settled = false;
      const ws = new WebSocket(connectUrl(options.controlPlaneUrl), {
        headers: { authorization: `Bearer ${options.credential}` },
        maxPayload: FLEET_LIMITS.maxFrameBytes,
        handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
      });
      this.#ws = ws;
      const finish = () => {
        if (settled) return;
        settled = true;
        if (heartbeat) clearInterval(heartbeat);
        options.signal.removeEventListener("abort", onAbort);
        const wasWelcomed = this.#welcomed;
        this.#welcomed = false;
        this.#ws = null;
        if (wasWelcomed) options.onDisconnect?.(attempt.code);
        resolve(attempt);
      };
      const onAbort = () => ws.close(1000, "agent stopping");
      options.signal.addEventListener("abort", onAbort, { once: true });

      ws.on("unexpected-response", (request, response) => {
        attempt.httpStatus = response.statusCode ?? null;
        response.resume();
        request.destroy();
        finish();
      });
      ws.on("error", (error) => {
        attempt.reason = error.message;
        // `close` follows an error on an opened socket; a failed handshake may not emit it.
        if (ws.readyState === WebSocket.CLOSED || ws.readyState === WebSocket.CONNECTING) finish();
      });
      ws.on("close", (code, reason) => {
        attempt.code = code;
        attempt.reason = reason.toString() || attempt.reason;
        finish();
      });
      ws.on("open", () => {
        options
          .hello()
          .then((hello) => ws.send(JSON.stringify(hello)))
          .catch((error: unknown) => {
            options.log(`cannot build hello: ${(error as Error).message}`);
            ws.close(1011, "hello failed");
          });
      });
      let awaitingPong = false;
      ws.on("pong", () => {
        awaitingPong = false;
      });
      ws.on("message", (data, isBinary) => {
        if (isBinary) {
          options.log("refused a binary frame from the control plane");
          return;
        }
        const frame = this.#parse(data.toString());
        if (!frame) return;
        switch (frame.type) {
          case "welcome": {
            if (this.#welcomed) return;
            this.#welcomed = true;
            attempt.welcomedAtMs = Date.now();
            let seq = 0;
            heartbeat = setInterval(() => {
              if (awaitingPong) {
                // No pong since the last heartbeat: the path is dead even if TCP has not noticed.
                options.log("no pong from the control plane; reconnecting");
                ws.terminate();
                return;
              }
              awaitingPong = true;
              ws.ping();
              this.send({ type: "heartbeat", seq: seq++, atMs: Date.now() });
            }, frame.heartbeatIntervalMs);
            options.onWelcome(frame);
            return;
          }
          case "command":
            if (!this.#welcomed) {
              options.log(`refused command ${frame.commandId} before welcome`);
              return;
            }
            options.onCommand(frame);
            return;
          case "error":
            options.log(`control plane: ${frame.error.code}: ${frame.error.message}`);
            return;
        }
      });
    });
  }

  /** A control-plane frame, or null (refused and logged) when it fails the schemas. */
  #parse(text: string) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      this.options.log("refused a frame that is not JSON");
      return null;
    }
    const parsed = ControlFrameSchema.safeParse(value);
    if (parsed.success) return parsed.data;
    const issue = parsed.error.issues[0];
    const message = `${issue?.path.join(".") || "(root)"}: ${issue?.message ?? "invalid"}`;
    this.options.log(`refused a frame that fails the protocol: ${message}`);
    const commandId = commandIdOf(value);
    if (commandId && this.#welcomed) this.options.onBadCommand?.(commandId, message);
    return null;
  }
}

/** The id of something that claims to be a command, if it carries a well-formed one. */
function commandIdOf(value: unknown): string | null {
  if (typeof value !== "object" || value === null) return null;
  const record = value as Record<string, unknown>;
  if (record.type !== "command" || typeof record.commandId !== "string") return null;
  return /^cmd_[A-Za-z0-9_-]{1,64}$/.test(record.commandId) ? record.commandId : null;
}
