/**
 * Turning a user's search text into a safe FTS5 query. Raw FTS5 syntax (quotes, `*`, `NEAR`,
 * column filters, `AND`/`OR`/`NOT`, parentheses) is never passed through: the text is split
 * into word tokens (letters and digits, as FTS5's unicode61 tokenizer splits them), each token
 * is quoted as a string literal, and the tokens are joined with OR so bm25 ranks the memories
 * that match the most (and the rarest) terms first.
 */

import { MAX_MEMORY_QUERY_TERMS } from "./limits.js";

/** Word tokens: runs of letters, digits and combining marks. */
const TOKEN = /[\p{L}\p{N}\p{M}]+/gu;

/**
 * The FTS5 MATCH expression for `text`, or null when it has no word in it (the caller answers
 * 422: an empty query is the client's mistake, not an empty result).
 *
 * @example toFtsQuery('deploy "canary') // '"deploy" OR "canary"'
 */
export function toFtsQuery(text: string): string | null {
  const seen = new Set<string>();
  for (const match of text.normalize("NFKC").matchAll(TOKEN)) {
    const term = match[0].toLowerCase();
    if (seen.has(term)) continue;
    seen.add(term);
    if (seen.size >= MAX_MEMORY_QUERY_TERMS) break;
  }
  if (seen.size === 0) return null;
  // Tokens hold no `"`, so quoting is safe; doubling would be the escape if they could.
  return [...seen].map((t) => `"${t.replaceAll('"', '""')}"`).join(" OR ");
}
