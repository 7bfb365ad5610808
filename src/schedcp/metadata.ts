/**
 * A scheduler policy's metadata, as the repository stores it and the API accepts it: what it
 * is for (use cases, as tags), how it works, what it cannot do, the tunables it takes and
 * their bounds, and the ops name it registers as. The same schema validates the built-in
 * catalog, so a built-in cannot carry metadata a tenant's policy could not.
 */

import { z } from "zod";
import { PARAMETER_LIMITS } from "./protocol/assignment.js";

export const POLICY_METADATA_LIMITS = {
  nameChars: 64,
  descriptionChars: 2_000,
  algorithmChars: 4_000,
  limitationsChars: 2_000,
  useCases: 16,
  useCaseChars: 40,
  tunableDescriptionChars: 500,
  /** A tunable's bounds: wide enough for nanosecond slices, small enough to be exact doubles. */
  tunableAbsMax: 1_000_000_000_000,
} as const;

/** A policy's name: lowercase, URL- and file-name-safe. */
export const SchedPolicyNameSchema = z
  .string()
  .regex(
    /^[a-z][a-z0-9-]{0,63}$/,
    "expected 1-64 lowercase letters, digits or -, starting with a letter",
  );

/** A use case is a tag: `latency-sensitive`, `gaming`, `batch`. */
export const UseCaseSchema = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9-]{0,39}$/,
    "expected 1-40 lowercase letters, digits or -, starting with a letter or digit",
  );

/** The `.name` of the policy's `struct sched_ext_ops`, as `/sys/kernel/sched_ext/root/ops` shows it. */
export const OpsNameSchema = z
  .string()
  .regex(/^[a-z0-9_]{1,31}$/, "expected 1-31 of a-z 0-9 _ (the kernel's ops name)");

/**
 * A tunable's name: the parameter's key. The source sees it as the macro `tunableMacro(name)`
 * (`slice_us` → `-DEK_SLICE_US=…`, bpf/defines.ts).
 */
export const TunableNameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,31}$/, "expected a lowercase identifier of 1-32 chars");

const bound = z
  .number()
  .int()
  .min(-POLICY_METADATA_LIMITS.tunableAbsMax)
  .max(POLICY_METADATA_LIMITS.tunableAbsMax);

/**
 * One tunable. An `int` has both bounds and a default within them; a `bool` has no bounds.
 * Tunables reach the BPF program as `-D` constants, so only integers and booleans exist.
 */
export const TunableSchema = z
  .strictObject({
    name: TunableNameSchema,
    type: z.enum(["int", "bool"]),
    default: z.union([bound, z.boolean()]),
    min: bound.optional(),
    max: bound.optional(),
    description: z.string().min(1).max(POLICY_METADATA_LIMITS.tunableDescriptionChars),
  })
  .superRefine((t, ctx) => {
    if (t.type === "bool") {
      if (typeof t.default !== "boolean") {
        ctx.addIssue({
          code: "custom",
          path: ["default"],
          message: "a bool's default is true or false",
        });
      }
      for (const key of ["min", "max"] as const) {
        if (t[key] !== undefined) {
          ctx.addIssue({ code: "custom", path: [key], message: "a bool has no bounds" });
        }
      }
      return;
    }
    if (typeof t.default !== "number") {
      ctx.addIssue({
        code: "custom",
        path: ["default"],
        message: "an int's default is an integer",
      });
    }
    if (t.min === undefined || t.max === undefined) {
      for (const key of ["min", "max"] as const) {
        if (t[key] === undefined) {
          ctx.addIssue({
            code: "custom",
            path: [key],
            message: "an int tunable needs both bounds",
          });
        }
      }
      return;
    }
    if (t.min > t.max) {
      ctx.addIssue({
        code: "custom",
        path: ["min"],
        message: `min ${t.min} is above max ${t.max}`,
      });
    }
    if (typeof t.default === "number" && (t.default < t.min || t.default > t.max)) {
      ctx.addIssue({
        code: "custom",
        path: ["default"],
        message: `default ${t.default} is outside [${t.min}, ${t.max}]`,
      });
    }
  });
export type Tunable = z.infer<typeof TunableSchema>;

export const TunablesSchema = z
  .array(TunableSchema)
  .max(PARAMETER_LIMITS.maxParameters)
  .superRefine((tunables, ctx) => {
    const seen = new Set<string>();
    tunables.forEach((t, i) => {
      if (seen.has(t.name)) {
        ctx.addIssue({ code: "custom", path: [i, "name"], message: `duplicate tunable ${t.name}` });
      }
      seen.add(t.name);
    });
  });

/** Everything about a policy but its source and versions. */
export const PolicyMetadataFields = {
  name: SchedPolicyNameSchema,
  description: z.string().min(1).max(POLICY_METADATA_LIMITS.descriptionChars),
  algorithm: z.string().min(1).max(POLICY_METADATA_LIMITS.algorithmChars),
  useCases: z
    .array(UseCaseSchema)
    .max(POLICY_METADATA_LIMITS.useCases)
    .refine((u) => new Set(u).size === u.length, { message: "use cases must be distinct" }),
  tunables: TunablesSchema,
  limitations: z.string().max(POLICY_METADATA_LIMITS.limitationsChars),
  opsName: OpsNameSchema,
};
export const PolicyMetadataSchema = z.strictObject(PolicyMetadataFields);
export type PolicyMetadata = z.infer<typeof PolicyMetadataSchema>;

/**
 * A policy as a catalog writes it: its metadata and its BPF C source. The built-ins
 * (bpf/catalog.ts, BUILTIN_POLICIES) are such entries.
 */
export type CatalogEntry = z.input<typeof PolicyMetadataSchema> & { source: string };

/** The metadata of a catalog entry (everything but its source). */
export function catalogMetadata(entry: CatalogEntry): PolicyMetadata {
  return PolicyMetadataSchema.parse({
    name: entry.name,
    description: entry.description,
    algorithm: entry.algorithm,
    useCases: entry.useCases,
    tunables: entry.tunables,
    limitations: entry.limitations,
    opsName: entry.opsName,
  });
}

/**
 * Each tunable's default, as parameters.
 *
 * @example defaultParameters([{ name: "slice_us", type: "int", default: 5000, min: 100, max: 100000, description: "…" }]) // { slice_us: 5000 }
 */
export function defaultParameters(tunables: readonly Tunable[]): Record<string, number | boolean> {
  const out: Record<string, number | boolean> = {};
  for (const t of tunables) out[t.name] = t.default;
  return out;
}
