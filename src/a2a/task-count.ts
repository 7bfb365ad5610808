/**
 * How many tasks a ListTasks filter matches (the response's `totalSize`), counted in the D1
 * process index with the same filters the listing applies. The index may lag the processes'
 * objects by a moment; so may this count.
 */

import { and, count, eq, inArray } from "drizzle-orm";
import type { Db } from "../store/db.js";
import { processIndex, processLabels } from "../store/schema.js";

export interface TaskCountQuery {
  tenantId: string;
  typeName?: string | undefined;
  status?: string | undefined;
  label?: { key: string; value: string } | undefined;
}

/**
 * The number of the tenant's processes matching the query.
 *
 * @example await countTasks(db, { tenantId, label: { key: "a2a.context", value: "ctx-1" } })
 */
export async function countTasks(db: Db, q: TaskCountQuery): Promise<number> {
  const where = [eq(processIndex.tenantId, q.tenantId)];
  if (q.typeName) where.push(eq(processIndex.typeName, q.typeName));
  if (q.status) where.push(eq(processIndex.status, q.status));
  if (q.label) {
    const matching = db
      .select({ id: processLabels.processId })
      .from(processLabels)
      .where(
        and(
          eq(processLabels.tenantId, q.tenantId),
          eq(processLabels.key, q.label.key),
          eq(processLabels.value, q.label.value),
        ),
      );
    where.push(inArray(processIndex.id, matching));
  }
  const rows = await db
    .select({ n: count() })
    .from(processIndex)
    .where(and(...where));
  return rows[0]?.n ?? 0;
}
