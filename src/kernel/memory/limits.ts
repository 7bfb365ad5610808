/**
 * The limits of long-term memory. Explicit, named, and tested at their edges.
 */

/** Longest memory text, in characters. */
export const MAX_MEMORY_CHARS = 8_000;
/** Most tags one memory carries. */
export const MAX_MEMORY_TAGS = 16;
/** A tag: lower-case letters, digits and `_ . : -`, starting with a letter or digit. */
export const MEMORY_TAG_PATTERN = /^[a-z0-9][a-z0-9_.:-]{0,31}$/;
/** Most memories one (tenant, agent type) may hold; a write beyond it is refused. */
export const MAX_MEMORIES_PER_AGENT_TYPE = 5_000;
/** Longest search text, in characters. */
export const MAX_MEMORY_QUERY_CHARS = 1_000;
/** Most terms a search keeps (the rest are ignored). */
export const MAX_MEMORY_QUERY_TERMS = 32;
/** Search results per call: default and most. */
export const DEFAULT_MEMORY_RESULTS = 10;
export const MAX_MEMORY_RESULTS = 50;
/** Results the agent loop's `memory_search` returns by default (the model's context is scarce). */
export const DEFAULT_MEMORY_TOOL_RESULTS = 5;
/** Characters of a memory's text a search result shown to the model carries (context is scarce). */
export const MEMORY_TOOL_CONTENT_CHARS = 1_000;
/** Characters of the goal and of the result (as JSON) kept in a process-end memory. */
export const PROCESS_END_GOAL_CHARS = 2_000;
export const PROCESS_END_RESULT_CHARS = 4_000;
/** The spawn label that opts a process out of its process-end memory: `memory=off`. */
export const MEMORY_OPT_OUT_LABEL = { key: "memory", value: "off" } as const;
