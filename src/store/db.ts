/** The typed D1 handle every repository takes. */

import { type DrizzleD1Database, drizzle } from "drizzle-orm/d1";
import * as schema from "./schema.js";

export type Db = DrizzleD1Database<typeof schema>;

/** Wraps the D1 binding in drizzle. Cheap: call it per request. */
export function openDb(d1: D1Database): Db {
  return drizzle(d1, { schema });
}
