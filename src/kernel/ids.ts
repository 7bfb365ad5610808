/**
 * Identifiers: a type prefix plus a UUIDv7 in lowercase hex without dashes.
 *
 * UUIDv7 puts a 48-bit millisecond timestamp first and 74 random bits after it, so ids are
 * unguessable yet sort by creation time as plain strings — which is what cursor pagination
 * over D1 relies on (`ORDER BY id`).
 */

export const ID_PREFIXES = {
  process: "proc",
  tenant: "ten",
  key: "key",
  request: "req",
  audit: "aud",
  agentType: "at",
  capability: "cap",
  entitlement: "ent",
  approval: "apr",
  mcpProvider: "mcpp",
  policy: "pol",
  lease: "lease",
  artifact: "art",
  message: "msg",
  correlation: "corr",
  node: "node",
  enrollmentToken: "etok",
  nodeCredential: "ncred",
  command: "cmd",
  commandBatch: "cmdb",
} as const;

export type IdKind = keyof typeof ID_PREFIXES;

/** Length of the hex body after `prefix_`: 128 bits as 32 hex digits. */
export const ID_HEX_LENGTH = 32;

let lastMs = 0;
let lastSeq = 0;

/**
 * A new UUIDv7 as 32 hex digits. Within one millisecond a 12-bit counter in `rand_a` keeps
 * ids from one isolate strictly increasing (RFC 9562 §6.2 method 1).
 *
 * @example newUuidV7Hex(Date.now()) // "0193a1c4e5f07a3b9c..."
 */
export function newUuidV7Hex(nowMs: number): string {
  let seq = 0;
  if (nowMs <= lastMs) {
    nowMs = lastMs;
    seq = lastSeq + 1;
    if (seq > 0xfff) {
      // Counter overflow: borrow the next millisecond rather than lose monotonicity.
      nowMs = lastMs + 1;
      seq = 0;
    }
  }
  lastMs = nowMs;
  lastSeq = seq;

  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  const ms = BigInt(nowMs);
  for (let i = 0; i < 6; i++) bytes[i] = Number((ms >> BigInt(8 * (5 - i))) & 0xffn);
  bytes[6] = 0x70 | ((seq >> 8) & 0x0f);
  bytes[7] = seq & 0xff;
  bytes[8] = 0x80 | ((bytes[8] ?? 0) & 0x3f);
  let hex = "";
  for (const b of bytes) hex += b.toString(16).padStart(2, "0");
  return hex;
}

/**
 * A new prefixed id such as `proc_0193a1c4e5f07a3b9c4d...`.
 *
 * @example newId("process") // "proc_0193..."
 */
export function newId(kind: IdKind, nowMs: number = Date.now()): string {
  return `${ID_PREFIXES[kind]}_${newUuidV7Hex(nowMs)}`;
}

/** The pattern an id of `kind` must match; used by the API schemas. */
export function idPattern(kind: IdKind): RegExp {
  return new RegExp(`^${ID_PREFIXES[kind]}_[0-9a-f]{${ID_HEX_LENGTH}}$`);
}

/** True when `value` is a well-formed id of `kind`. */
export function isId(kind: IdKind, value: string): boolean {
  return idPattern(kind).test(value);
}
