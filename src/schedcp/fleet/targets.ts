/**
 * Which nodes a command goes to: named node ids, or a label selector (every given label must
 * match, and optionally the role). Pure: the Fleet object resolves a target against its node
 * table with `matchesSelector`.
 */

import { z } from "zod";
import { LabelsSchema, NodeIdSchema, NodeRoleSchema } from "../protocol/index.js";

/** At most this many node ids in one explicit target. */
export const MAX_TARGET_NODE_IDS = 1_000;

export const NodeSelectorSchema = z.strictObject({
  /** Every label given must be on the node with this value; `{}` selects every node. */
  labels: LabelsSchema,
  role: NodeRoleSchema.optional(),
});
export type NodeSelector = z.infer<typeof NodeSelectorSchema>;

export const NodeTargetSchema = z.union([
  z.strictObject({ nodeIds: z.array(NodeIdSchema).min(1).max(MAX_TARGET_NODE_IDS) }),
  z.strictObject({ selector: NodeSelectorSchema }),
]);
export type NodeTarget = z.infer<typeof NodeTargetSchema>;

/**
 * Whether a node with these labels and role is selected.
 *
 * @example matchesSelector({ tier: "batch", zone: "a" }, "node", { labels: { tier: "batch" } }) // true
 */
export function matchesSelector(
  labels: Readonly<Record<string, string>>,
  role: string,
  selector: NodeSelector,
): boolean {
  if (selector.role !== undefined && selector.role !== role) return false;
  for (const [key, value] of Object.entries(selector.labels)) {
    if (labels[key] !== value) return false;
  }
  return true;
}
