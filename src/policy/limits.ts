/**
 * Every limit of the policy engine, named in one place and tested at its edges. Sizes are
 * chosen so that a tenant's whole set stays small enough to parse in milliseconds and to keep
 * dozens of parsed sets in one isolate's memory.
 */

/** One stored policy's Cedar text, in UTF-8 bytes. */
export const MAX_POLICY_TEXT_BYTES = 16_384;

/** Cedar statements (`permit`/`forbid`) in one stored policy. */
export const MAX_STATEMENTS_PER_POLICY = 5;

/**
 * Stored policies per tenant: at most 250 statements of its own, plus the defaults. Every
 * statement is checked for relevance on every call and Cedar evaluates those that may apply, so
 * this bounds the cost of a decision (see bench/gate) as well as memory: a parsed set of 250
 * statements takes about 0.5 MiB of the Cedar module's memory, which never shrinks.
 */
export const MAX_POLICIES_PER_TENANT = 50;

export const MAX_POLICY_DESCRIPTION_CHARS = 500;

/** A policy's name: lowercase, digits, `.`, `_`, `-`; it becomes the id decisions cite. */
export const POLICY_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** An `@id` inside a multi-statement policy becomes part of that statement's id. */
export const STATEMENT_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/** Tenants whose parsed policy sets one isolate keeps (least recently used goes first). */
export const MAX_CACHED_ENGINES = 32;

/**
 * Parsed slices (the statements that can matter to a kind of request, see relevance.ts) held
 * inside the Cedar module, over all engines. Its store has no delete, so a slot is overwritten
 * rather than freed; the least recently used goes first.
 */
export const MAX_PREPARSED_SLICES = 256;

/**
 * Statements held in those slots, all together: a parsed statement takes about 2 KiB of the
 * Cedar module's memory, which never shrinks, so this keeps it under about 25 MiB of an
 * isolate's 128 MiB. At least one whole tenant set (defaults included) must fit.
 */
export const MAX_PREPARSED_STATEMENTS = 12_288;

/** Slices one engine remembers (least recently used forgotten first). */
export const MAX_SLICES_PER_ENGINE = 64;

/** Capabilities one engine remembers its candidate statements for (see guard.ts). */
export const MAX_INDEXED_CAPABILITIES = 1_024;
