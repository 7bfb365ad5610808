/**
 * `edgekernel-host run`: the connection, the command dispatcher, the deploy path and the
 * telemetry loop of one enrolled node, wired together.
 *
 * Telemetry is sampled whether or not the control plane is reachable, because the deploy
 * module's guards watch it and must revert a regressing policy on their own; reports go up only
 * while connected. Deploy transitions, verification results and acks that happen while
 * disconnected wait in a bounded outbox and go up after the next welcome.
 */

import type { HostAgentConfig } from "../config.js";
import { deployStatusFrame } from "../deploy/status.js";
import type { Executor } from "../deploy/types.js";
import { readNodeFacts } from "../facts.js";
import { type NodeFrame, PROTOCOL_VERSION } from "../protocol.js";
import type { NodeState } from "../state.js";
import { readTelemetrySample, reportBetween } from "../telemetry.js";
import type { TelemetrySample } from "../telemetry-deltas.js";
import { AGENT_VERSION } from "../version.js";
import { Warnings } from "../warnings.js";
import { downloadArtifact } from "./artifacts.js";
import type { BackoffPolicy } from "./backoff.js";
import { type ConnectionEnd, FleetConnection, type HelloFrame } from "./connection.js";
import { createDeployPath } from "./deploy-path.js";
import { CommandDispatcher } from "./dispatch.js";
import type { RunVerifyJob } from "./seams.js";

/** Frames kept for the next connection at most; the oldest go first when it is full. */
export const OUTBOX_MAX_FRAMES = 256;
/** Upper bound on uploading one compiled object. */
export const UPLOAD_TIMEOUT_MS = 60_000;

export interface RunOptions {
  config: HostAgentConfig;
  state: NodeState;
  /** What `--dry-run` prints (what the agent would do) goes here: stdout. */
  print: (line: string) => void;
  /** Connection and command log: stderr. */
  log: (line: string) => void;
  signal: AbortSignal;
  /** Test seams: the executor the deployer runs commands with, and the VM stage. */
  executor?: Executor;
  runVerifyJob?: RunVerifyJob;
  random?: () => number;
  backoff?: BackoffPolicy & { stableAfterMs: number };
  fetch?: typeof fetch;
}

/**
 * Runs the node until the signal aborts, or until the control plane refuses it for good.
 *
 * @example const end = await runAgent({ config, state, print, log, signal: controller.signal })
 */
export async function runAgent(options: RunOptions): Promise<ConnectionEnd> {
  const { config, state, log, signal } = options;
  const baseUrl = config.controlPlaneUrl ?? state.controlPlaneUrl;
  const fetchImpl = options.fetch ?? fetch;
  const path = await createDeployPath({
    config,
    role: state.role,
    trust: { publicKey: state.signingPublicKey, keyId: state.keyId },
    fetchArtifact: (sha256, maxBytes) =>
      downloadArtifact({
        baseUrl,
        credential: state.credential,
        sha256,
        maxBytes,
        fetch: fetchImpl,
        signal,
      }),
    print: options.print,
    log,
    ...(options.executor ? { executor: options.executor } : {}),
    ...(options.runVerifyJob ? { runVerifyJob: options.runVerifyJob } : {}),
  });
  const { deployer } = path;

  const outbox: NodeFrame[] = [];
  let dropped = 0;
  /** Sends now, or keeps the frame for the next connection. */
  const deliver = (frame: NodeFrame) => {
    if (connection.send(frame)) return;
    outbox.push(frame);
    if (outbox.length > OUTBOX_MAX_FRAMES) {
      outbox.shift();
      dropped += 1;
    }
  };

  const dispatcher = new CommandDispatcher({
    role: state.role,
    deployer,
    deploy: path.deploy,
    runVerifyJob: path.runVerifyJob,
    uploadObject: async (uploadPath, bytes) => {
      const res = await fetchImpl(new URL(uploadPath, baseUrl), {
        method: "PUT",
        headers: {
          authorization: `Bearer ${state.credential}`,
          "content-type": "application/octet-stream",
        },
        body: bytes,
        signal: AbortSignal.any([signal, AbortSignal.timeout(UPLOAD_TIMEOUT_MS)]),
      });
      if (!res.ok) throw new Error(`PUT ${uploadPath}: HTTP ${res.status}`);
    },
    send: deliver,
    log,
    signal,
  });
  // Every transition — a load, a refusal, an ejection, a guard's revert — goes up as it happens.
  deployer?.onTransition((transition) => deliver(deployStatusFrame(transition)));

  let telemetryIntervalMs = config.telemetryIntervalMs;
  const connection: FleetConnection = new FleetConnection({
    controlPlaneUrl: baseUrl,
    credential: state.credential,
    hello: async (): Promise<HelloFrame> => ({
      type: "hello",
      protocol: PROTOCOL_VERSION,
      agentVersion: AGENT_VERSION,
      role: state.role,
      labels: config.labels,
      facts: await readNodeFacts(config),
      running: deployer?.current() ?? null,
      dryRun: config.dryRun,
    }),
    onWelcome: (welcome) => {
      log(
        `connected to ${baseUrl} as ${welcome.nodeId} (heartbeat ${welcome.heartbeatIntervalMs} ms, telemetry ${welcome.telemetryIntervalMs} ms)`,
      );
      telemetryIntervalMs = welcome.telemetryIntervalMs;
      if (dropped > 0) log(`${dropped} frames were dropped while disconnected (outbox full)`);
      dropped = 0;
      for (const frame of outbox.splice(0)) deliver(frame);
    },
    onCommand: (command) => {
      void dispatcher.handle(command).then(deliver);
    },
    onBadCommand: (commandId, message) =>
      deliver({
        type: "ack",
        commandId,
        ok: false,
        error: { code: "bad_command", message: message.slice(0, 4_096) },
      }),
    log,
    signal,
    ...(options.random ? { random: options.random } : {}),
    ...(options.backoff ? { backoff: options.backoff } : {}),
  });

  const stopTelemetry = startTelemetryLoop({
    config,
    intervalMs: () => telemetryIntervalMs,
    onReport: async (report) => {
      const atMs = Date.now();
      connection.send({ type: "telemetry", atMs, report });
      await deployer?.observe(report, atMs);
    },
    log,
  });
  // The deployer watches sched_ext on its own timer (config.deployPollIntervalMs).
  try {
    return await connection.run();
  } finally {
    stopTelemetry();
    await deployer?.close();
  }
}

/**
 * Samples the counters every interval and reports the deltas since the previous sample.
 * Returns a function that stops it.
 */
function startTelemetryLoop(options: {
  config: HostAgentConfig;
  intervalMs: () => number;
  onReport: (report: Awaited<ReturnType<typeof reportBetween>>) => Promise<void>;
  log: (line: string) => void;
}): () => void {
  const { config } = options;
  let previous: TelemetrySample | null = null;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  const tick = async () => {
    try {
      const warnings = new Warnings();
      const sample = await readTelemetrySample(config, warnings, () => performance.now());
      if (previous) {
        const report = await reportBetween(previous, sample, {
          procRoot: config.procRoot,
          sysRoot: config.sysRoot,
          topProcessCount: config.topProcesses,
          warnings,
        });
        await options.onReport(report);
      }
      previous = sample;
    } catch (error) {
      options.log(`telemetry: ${(error as Error).message}`);
    }
    if (!stopped) timer = setTimeout(tick, options.intervalMs());
  };
  void tick();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
