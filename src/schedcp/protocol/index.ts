/**
 * The fleet wire protocol, defined once and imported by both ends: the Worker (src/objects,
 * src/api) and host-agent (host-agent/src/protocol.ts re-exports this). zod only, no platform
 * imports, so it runs in workerd and in Node alike.
 */
export * from "./assignment.js";
export * from "./messages.js";
export * from "./telemetry.js";
