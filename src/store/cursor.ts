/**
 * Opaque pagination cursors: the sort key of the last row returned, base64url-encoded so
 * clients treat it as a token rather than an id to edit.
 */

/** Encodes the last row's sort key. */
export function encodeCursor(lastKey: string): string {
  return btoa(lastKey).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
}

/** The sort key inside `cursor`, or null when it is not one of ours. */
export function decodeCursor(cursor: string): string | null {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) return null;
  try {
    return atob(cursor.replaceAll("-", "+").replaceAll("_", "/"));
  } catch {
    return null;
  }
}

/**
 * The first `limit` of `rows` (fetched as `limit + 1`), and the cursor that continues after
 * them, or null when nothing follows.
 *
 * @example const { page, nextCursor } = pageOf(rows, q.limit, (r) => r.id)
 */
export function pageOf<T>(
  rows: readonly T[],
  limit: number,
  keyOf: (row: T) => string,
): { page: T[]; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { page, nextCursor: rows.length > limit && last ? encodeCursor(keyOf(last)) : null };
}
