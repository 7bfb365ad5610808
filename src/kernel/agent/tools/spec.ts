/** What a built-in tool is to the model and to the gate. */

import type { z } from "zod";

export interface ToolSpec {
  /** The capability the gate checks (`proc.sleep`, `ws.write`, …). */
  capability: string;
  /** What the model reads. */
  description: string;
  /** The arguments, validated before the tool runs; the model sees their JSON Schema. */
  args: z.ZodType;
}
