import { z } from "zod";
import {
  AssignmentSchema,
  ParametersSchema,
  PolicyVersionSchema,
  SchedPolicyIdSchema,
  Sha256Schema,
} from "./assignment.js";
import { NodeFactsSchema, TelemetryReportSchema } from "./telemetry.js";

/*
 * The fleet wire protocol: enrollment over HTTPS, then JSON text frames over one WebSocket
 * (`GET /v1/fleet/connect`, `Authorization: Bearer <node credential>`). Every frame is one of
 * the schemas below, discriminated by `type`; both ends parse with them and refuse anything
 * else. Commands from the control plane carry an id and a deadline; the node answers each with
 * exactly one `ack`.
 */

/** Bumped on any change a peer of the previous version would misread. */
export const PROTOCOL_VERSION = 1;

export const FLEET_LIMITS = {
  /** Largest text frame either end sends or accepts. */
  maxFrameBytes: 1_048_576,
  /** A policy's BPF C source, as submitted and as sent to a verifier. */
  maxSourceBytes: 262_144,
  /** A compiled BPF object. */
  maxObjectBytes: 4_194_304,
  /** A log (compiler, kernel verifier, dmesg) kept in a verification result. */
  maxLogChars: 65_536,
  labelsMax: 32,
  labelKeyMaxChars: 63,
  labelValueMaxChars: 63,
} as const;

/** A node's id: assigned at enrollment, or chosen by the operator within these characters. */
export const NodeIdSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/,
    "expected 1-63 letters, digits, . _ - starting with a letter or digit",
  );

export const LabelKeySchema = z
  .string()
  .max(FLEET_LIMITS.labelKeyMaxChars)
  .regex(
    /^[A-Za-z0-9]([A-Za-z0-9._/-]*[A-Za-z0-9])?$/,
    "expected letters and digits, with . _ / - only inside",
  );
export const LabelValueSchema = z
  .string()
  .max(FLEET_LIMITS.labelValueMaxChars)
  .regex(/^[A-Za-z0-9._/-]*$/, "expected letters, digits, . _ / -");
export const LabelsSchema = z
  .record(LabelKeySchema, LabelValueSchema)
  .refine((labels) => Object.keys(labels).length <= FLEET_LIMITS.labelsMax, {
    message: `at most ${FLEET_LIMITS.labelsMax} labels`,
  });

/** What a host-agent does: run workloads under policies, or verify policies in VMs. */
export const NODE_ROLES = ["node", "verifier"] as const;
export const NodeRoleSchema = z.enum(NODE_ROLES);

const ErrorSchema = z.strictObject({
  /** Stable, machine-readable: `bad_signature`, `expired`, `hash_mismatch`, `load_failed`, … */
  code: z.string().regex(/^[a-z][a-z0-9_]{0,63}$/),
  message: z.string().max(4_096),
});

// ---------------------------------------------------------------------------------------------
// Enrollment (HTTPS)

/** `POST /v1/fleet/enroll`: a one-time enrollment token buys a node credential. */
export const EnrollRequestSchema = z.strictObject({
  token: z.string().min(1).max(200),
  /** The id the node asks for; the control plane assigns one when absent. */
  nodeId: NodeIdSchema.optional(),
  role: NodeRoleSchema,
  labels: LabelsSchema,
  facts: NodeFactsSchema,
  agentVersion: z.string().max(64),
});
export type EnrollRequest = z.infer<typeof EnrollRequestSchema>;

export const EnrollResponseSchema = z.strictObject({
  nodeId: NodeIdSchema,
  tenantId: z.string(),
  /** The node's bearer credential, shown once. */
  credential: z.string(),
  role: NodeRoleSchema,
  /** The control plane's Ed25519 public key (raw 32 bytes, base64url), for the node to pin. */
  signingPublicKey: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  keyId: z.string().regex(/^[0-9a-f]{16}$/),
});
export type EnrollResponse = z.infer<typeof EnrollResponseSchema>;

// ---------------------------------------------------------------------------------------------
// Verification (a job for a verifier node, and what it found)

export const VerifyJobSchema = z.strictObject({
  jobId: z.string().regex(/^vjob_[A-Za-z0-9_-]{1,64}$/),
  policyId: SchedPolicyIdSchema,
  version: PolicyVersionSchema,
  /** BPF C; compiled against the VM kernel's BTF with the parameters as `-D` constants. */
  source: z.string().max(FLEET_LIMITS.maxSourceBytes),
  parameters: ParametersSchema,
  /** The ops name the object must register as. */
  opsName: z.string().regex(/^[a-z0-9_]{1,31}$/),
  /** How long the functional workload runs under the scheduler without an ejection. */
  workloadMs: z.int().min(1_000).max(120_000),
  /** Where to PUT the compiled object (a path on the control plane, node credential). */
  uploadPath: z.string().startsWith("/v1/fleet/"),
});
export type VerifyJob = z.infer<typeof VerifyJobSchema>;

export const VERIFY_STAGES = ["compile", "boot", "load", "workload", "unload"] as const;

export const VerifyStageSchema = z.strictObject({
  stage: z.enum(VERIFY_STAGES),
  ok: z.boolean(),
  durationMs: z.number().nonnegative(),
  /** What the stage printed (compiler diagnostics, libbpf/kernel verifier log, dmesg), trimmed. */
  log: z.string().max(FLEET_LIMITS.maxLogChars),
});

export const VerifyResultSchema = z.strictObject({
  jobId: VerifyJobSchema.shape.jobId,
  ok: z.boolean(),
  stages: z.array(VerifyStageSchema).max(VERIFY_STAGES.length),
  /** The kernel verifier accepted the program and the scheduler was enabled. */
  loaded: z.boolean(),
  /** Tasks seen running under the scheduler during the workload (`ext.enabled` in their sched). */
  tasksScheduled: z.int().nonnegative(),
  /** The sched_ext watchdog (or an error exit) ejected the scheduler. */
  ejected: z.boolean(),
  ejectionReason: z.string().max(4_096).nullable(),
  unloadedCleanly: z.boolean(),
  kernelRelease: z.string().max(128).nullable(),
  /** The compiled object, when compiling succeeded (uploaded to the job's uploadPath first). */
  object: z.strictObject({ sha256: Sha256Schema, sizeBytes: z.int().positive() }).nullable(),
});
export type VerifyResult = z.infer<typeof VerifyResultSchema>;

// ---------------------------------------------------------------------------------------------
// Deploy transitions a node reports

export const DEPLOY_STATES = [
  /** Signature, expiry or hash refused it: nothing was loaded. */
  "refused",
  /** Loaded and enabled (or, in dry-run, what would have been). */
  "active",
  /** Taken off: by command, or replaced by another assignment. */
  "stopped",
  /** Taken off by the node itself because a guard tripped. */
  "reverted",
  /** The kernel's watchdog (or the scheduler's own error exit) removed it. */
  "ejected",
  /** Loading failed (verifier, missing binary, timeout). */
  "failed",
] as const;
export type DeployState = (typeof DEPLOY_STATES)[number];

export const DeployStatusSchema = z.strictObject({
  type: z.literal("deploy-status"),
  assignmentId: AssignmentSchema.shape.assignmentId,
  policyId: SchedPolicyIdSchema,
  version: PolicyVersionSchema,
  state: z.enum(DEPLOY_STATES),
  reason: z.string().max(4_096).nullable(),
  /** What the node runs now, after this transition (null: the kernel's default scheduler). */
  running: z
    .strictObject({
      assignmentId: AssignmentSchema.shape.assignmentId,
      policyId: SchedPolicyIdSchema,
      version: PolicyVersionSchema,
    })
    .nullable(),
  dryRun: z.boolean(),
  atMs: z.int().nonnegative(),
});
export type DeployStatus = z.infer<typeof DeployStatusSchema>;

// ---------------------------------------------------------------------------------------------
// Frames: node → control plane

export const HelloSchema = z.strictObject({
  type: z.literal("hello"),
  protocol: z.literal(PROTOCOL_VERSION),
  agentVersion: z.string().max(64),
  role: NodeRoleSchema,
  labels: LabelsSchema,
  facts: NodeFactsSchema,
  /** What runs now, so a reconnecting node and the control plane agree at once. */
  running: DeployStatusSchema.shape.running,
  dryRun: z.boolean(),
});

export const HeartbeatSchema = z.strictObject({
  type: z.literal("heartbeat"),
  seq: z.int().nonnegative(),
  atMs: z.int().nonnegative(),
});

export const TelemetrySchema = z.strictObject({
  type: z.literal("telemetry"),
  atMs: z.int().nonnegative(),
  report: TelemetryReportSchema,
});

export const AckSchema = z.strictObject({
  type: z.literal("ack"),
  commandId: z.string().regex(/^cmd_[A-Za-z0-9_-]{1,64}$/),
  ok: z.boolean(),
  error: ErrorSchema.nullable(),
});

export const VerifyResultFrameSchema = z.strictObject({
  type: z.literal("verify-result"),
  result: VerifyResultSchema,
});

export const NodeFrameSchema = z.discriminatedUnion("type", [
  HelloSchema,
  HeartbeatSchema,
  TelemetrySchema,
  AckSchema,
  DeployStatusSchema,
  VerifyResultFrameSchema,
]);
export type NodeFrame = z.infer<typeof NodeFrameSchema>;

// ---------------------------------------------------------------------------------------------
// Frames: control plane → node

export const WelcomeSchema = z.strictObject({
  type: z.literal("welcome"),
  protocol: z.literal(PROTOCOL_VERSION),
  nodeId: NodeIdSchema,
  heartbeatIntervalMs: z.int().min(1_000).max(300_000),
  telemetryIntervalMs: z.int().min(100).max(3_600_000),
  serverTimeMs: z.int().nonnegative(),
});

export const CommandBodySchema = z.discriminatedUnion("op", [
  /** Verify, fetch and deploy this policy, replacing whatever runs. */
  z.strictObject({ op: z.literal("assign"), assignment: AssignmentSchema }),
  /** Take the current policy off, back to the previous one or the kernel's default. */
  z.strictObject({
    op: z.literal("revert"),
    /** Only if this assignment is what runs (so a stale revert cannot remove a newer one). */
    assignmentId: AssignmentSchema.shape.assignmentId.nullable(),
    reason: z.string().max(1_024),
  }),
  /** Verifier nodes only: run this verification job, then send a `verify-result`. */
  z.strictObject({ op: z.literal("verify"), job: VerifyJobSchema }),
]);
export type CommandBody = z.infer<typeof CommandBodySchema>;

export const CommandSchema = z.strictObject({
  type: z.literal("command"),
  commandId: AckSchema.shape.commandId,
  /** The control plane stops waiting for the ack at this instant (ms since the epoch). */
  deadlineAtMs: z.int().nonnegative(),
  body: CommandBodySchema,
});

/** Sent before the control plane closes a connection it refuses. */
export const ProtocolErrorSchema = z.strictObject({
  type: z.literal("error"),
  error: ErrorSchema,
});

export const ControlFrameSchema = z.discriminatedUnion("type", [
  WelcomeSchema,
  CommandSchema,
  ProtocolErrorSchema,
]);
export type ControlFrame = z.infer<typeof ControlFrameSchema>;

/**
 * WebSocket close codes the control plane uses (private range 4000-4999, the HTTP status they
 * resemble plus 4000). A node stops reconnecting only on `unauthorized` (its credential was
 * revoked); every other close is retried with backoff.
 */
export const FLEET_CLOSE_CODES = {
  /** A frame failed the schemas, or a frame other than `hello` came first. */
  badFrame: 4400,
  /** The node's credential was revoked. */
  unauthorized: 4401,
  /** The frame is not allowed for this node (e.g. a role other than the enrolled one). */
  forbidden: 4403,
  /** No frame from the node for too long (heartbeats stopped). */
  heartbeatTimeout: 4408,
  /** A newer connection of the same node took over. */
  replaced: 4409,
  /** A frame larger than `FLEET_LIMITS.maxFrameBytes`. */
  frameTooLarge: 4413,
  /** A binary frame: the protocol is JSON text only. */
  unsupportedData: 4415,
} as const;

/** The artifact a node downloads: `GET /v1/fleet/artifacts/{sha256}`, node credential. */
export function artifactPath(sha256: string): string {
  return `/v1/fleet/artifacts/${sha256}`;
}
