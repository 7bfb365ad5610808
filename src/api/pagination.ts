/**
 * A client's pagination cursor, decoded or refused with a 422 naming the field (the page
 * itself is cut by `pageOf` in store/cursor.ts).
 */

import { decodeCursor } from "../store/cursor.js";
import { fieldError } from "./problem.js";

/** What a client is told about a cursor this API did not issue. */
export const INVALID_CURSOR = "not a cursor issued by this API";

/**
 * The sort key inside a client's `cursor`, undefined when there is none; a cursor this API did
 * not issue is a 422 at `cursor`.
 *
 * @example const beforeId = cursorKey(query.cursor)
 */
export function cursorKey(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  const key = decodeCursor(cursor);
  if (key === null) throw fieldError("cursor", INVALID_CURSOR, "invalid_cursor");
  return key;
}

export { pageOf } from "../store/cursor.js";
