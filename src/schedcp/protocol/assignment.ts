import { z } from "zod";

/*
 * A policy assignment: what the control plane tells a node to run, and the Ed25519 signature
 * that lets the node check it came from the control plane unchanged. The node verifies the
 * signature with the control plane's pinned public key, checks the expiry, downloads the
 * artifact and checks its SHA-256 before it loads anything.
 *
 * What is signed is exactly `signingBytes(payload)`: a domain-separation prefix and the
 * canonical JSON of (policy id, version, artifact SHA-256, parameters, expiry). Both ends build
 * those bytes with this module, so they cannot disagree about the encoding.
 */

/** Lowercase hex SHA-256. */
export const Sha256Schema = z.string().regex(/^[0-9a-f]{64}$/, "expected a lowercase hex SHA-256");

/** A scheduler policy's id in the repository. */
export const SchedPolicyIdSchema = z
  .string()
  .regex(/^spol_[A-Za-z0-9_-]{1,64}$/, "expected spol_ followed by 1-64 of A-Z a-z 0-9 _ -");

/** Policy versions count up from 1 within a policy. */
export const PolicyVersionSchema = z.int().min(1).max(1_000_000);

export const PARAMETER_LIMITS = {
  maxParameters: 32,
  maxStringChars: 128,
} as const;

/**
 * A policy's tunables as deployed: names a C identifier could carry (a BPF object bakes them in
 * at compile time as `-D` constants; an scx binary gets them as bounded flags).
 */
export const ParametersSchema = z
  .record(
    z.string().regex(/^[a-z][a-z0-9_]{0,31}$/, "expected a lowercase identifier of 1-32 chars"),
    z.union([z.number().finite(), z.boolean(), z.string().max(PARAMETER_LIMITS.maxStringChars)]),
  )
  .refine((p) => Object.keys(p).length <= PARAMETER_LIMITS.maxParameters, {
    message: `at most ${PARAMETER_LIMITS.maxParameters} parameters`,
  });
export type Parameters = z.infer<typeof ParametersSchema>;

/** The signed fields of an assignment. */
export const AssignmentPayloadSchema = z.strictObject({
  policyId: SchedPolicyIdSchema,
  version: PolicyVersionSchema,
  artifactSha256: Sha256Schema,
  parameters: ParametersSchema,
  /** After this instant (ms since the epoch) the node refuses to load it. */
  expiresAtMs: z.int().nonnegative(),
});
export type AssignmentPayload = z.infer<typeof AssignmentPayloadSchema>;

/**
 * What the node deploys. A BPF object is downloaded from the control plane and registered with
 * `bpftool struct_ops register`; its SHA-256 is that of the object's bytes. An scx binary is one
 * the node's operator installed (the node's configuration lists which may run); its SHA-256 is
 * `sha256(canonicalJson(artifact))`, so the signature covers its name too.
 */
export const ArtifactSchema = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("bpf-object"),
    sizeBytes: z.int().positive(),
    /** The `struct sched_ext_ops` map's `.name`, as `/sys/kernel/sched_ext/root/ops` shows it. */
    opsName: z.string().regex(/^[a-z0-9_]{1,31}$/),
  }),
  z.strictObject({
    kind: z.literal("scx-binary"),
    /** The binary's file name, e.g. `scx_rusty`; resolved against the node's allow-list. */
    binary: z.string().regex(/^scx_[a-z0-9_]{1,60}$/),
  }),
]);
export type Artifact = z.infer<typeof ArtifactSchema>;

/**
 * When the node reverts on its own: a telemetry metric worse than its value before the deploy
 * by more than the margin, for longer than `sustainMs`.
 */
export const GuardSchema = z.strictObject({
  metric: z.enum(["psiSomeAvg10Pct", "meanRunDelayUs"]),
  /** Allowed worsening over the pre-deploy baseline, in percent of the baseline. */
  maxIncreasePct: z.number().min(0).max(10_000),
  /** Below this absolute value the metric never counts as a regression (noise floor). */
  floor: z.number().min(0),
  sustainMs: z.int().min(0).max(3_600_000),
});
export type Guard = z.infer<typeof GuardSchema>;

export const AssignmentSchema = z.strictObject({
  assignmentId: z.string().regex(/^asg_[A-Za-z0-9_-]{1,64}$/),
  /** The rollout it belongs to, or null for a direct deploy. */
  rolloutId: z.string().max(80).nullable(),
  payload: AssignmentPayloadSchema,
  artifact: ArtifactSchema,
  guards: z.array(GuardSchema).max(4),
  /** Ed25519 over `signingBytes(payload)`, base64url without padding. */
  signature: z.string().regex(/^[A-Za-z0-9_-]{86}$/, "expected a 64-byte base64url signature"),
  /** Which control-plane key signed it (SHA-256 of the raw public key, first 16 hex). */
  keyId: z.string().regex(/^[0-9a-f]{16}$/),
});
export type Assignment = z.infer<typeof AssignmentSchema>;

/**
 * JSON with object keys sorted at every depth and no whitespace: one value, one encoding.
 * Numbers must be finite (JSON has no other kind).
 *
 * @example canonicalJson({ b: 1, a: [true, "x"] }) // '{"a":[true,"x"],"b":1}'
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === "boolean" || typeof value === "string") {
    return JSON.stringify(value);
  }
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new TypeError("canonicalJson: a number must be finite");
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  throw new TypeError(`canonicalJson: cannot encode a ${typeof value}`);
}

/** Prefix of every signed assignment: a signature over anything else never verifies as one. */
export const ASSIGNMENT_SIGNING_CONTEXT = "edgekernel sched assignment v1\n";

/**
 * The exact bytes the control plane signs and the node verifies.
 *
 * @example crypto.subtle.verify("Ed25519", publicKey, signature, signingBytes(assignment.payload))
 */
export function signingBytes(payload: AssignmentPayload): Uint8Array<ArrayBuffer> {
  return new Uint8Array(
    new TextEncoder().encode(ASSIGNMENT_SIGNING_CONTEXT + canonicalJson(payload)),
  );
}
