import { describe, expect, it } from "vitest";
import { parseNodeFrame, utf8Bytes } from "../../src/schedcp/fleet/frames.js";
import { mergeLabels, sameLabels } from "../../src/schedcp/fleet/labels.js";
import { FLEET_INTERVAL_DEFAULTS, fleetIntervals } from "../../src/schedcp/fleet/limits.js";
import { matchesSelector, NodeTargetSchema } from "../../src/schedcp/fleet/targets.js";
import { FLEET_CLOSE_CODES, FLEET_LIMITS } from "../../src/schedcp/protocol/index.js";

describe("parseNodeFrame", () => {
  const heartbeat = (pad: string) => JSON.stringify({ type: "heartbeat", seq: 1, atMs: 2, pad });
  const envelope = heartbeat("").length;

  it("takes a frame of exactly the size limit to the schema, and refuses one byte more", () => {
    const atLimit = heartbeat("x".repeat(FLEET_LIMITS.maxFrameBytes - envelope));
    expect(utf8Bytes(atLimit)).toBe(FLEET_LIMITS.maxFrameBytes);
    // At the limit it is judged by the schema (which refuses the unknown `pad`), not by size.
    expect(parseNodeFrame(atLimit)).toMatchObject({ ok: false, error: { code: "bad_frame" } });
    const over = heartbeat("x".repeat(FLEET_LIMITS.maxFrameBytes - envelope + 1));
    expect(parseNodeFrame(over)).toMatchObject({
      ok: false,
      closeCode: FLEET_CLOSE_CODES.frameTooLarge,
    });
  });

  it("counts UTF-8 bytes, not characters", () => {
    const euros = "€".repeat(Math.ceil(FLEET_LIMITS.maxFrameBytes / 3));
    expect(euros.length).toBeLessThan(FLEET_LIMITS.maxFrameBytes);
    expect(parseNodeFrame(heartbeat(euros))).toMatchObject({
      closeCode: FLEET_CLOSE_CODES.frameTooLarge,
    });
  });

  it("parses a valid frame, and names the paths of an invalid one", () => {
    expect(parseNodeFrame('{"type":"heartbeat","seq":1,"atMs":5}')).toEqual({
      ok: true,
      frame: { type: "heartbeat", seq: 1, atMs: 5 },
    });
    const bad = parseNodeFrame('{"type":"heartbeat","seq":-1,"atMs":"x"}');
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error.message).toMatch(/seq: .*; atMs: /);
    expect(parseNodeFrame(new ArrayBuffer(1))).toMatchObject({
      closeCode: FLEET_CLOSE_CODES.unsupportedData,
    });
  });
});

describe("labels", () => {
  const n = (count: number, prefix: string) =>
    Object.fromEntries(Array.from({ length: count }, (_, i) => [`${prefix}${i}`, "v"]));

  it("lays the pinned labels over the node's and sorts keys", () => {
    expect(mergeLabels({ zone: "a", tier: "x" }, { tier: "canary" })).toEqual({
      ok: true,
      labels: { tier: "canary", zone: "a" },
    });
  });

  it("takes 32 labels together and refuses 33", () => {
    expect(mergeLabels(n(30, "a"), n(2, "b")).ok).toBe(true);
    expect(mergeLabels(n(31, "a"), n(2, "b")).ok).toBe(false);
    // An overridden key counts once.
    expect(mergeLabels(n(32, "a"), { a0: "pinned" }).ok).toBe(true);
  });

  it("compares label sets regardless of order", () => {
    expect(sameLabels({ a: "1", b: "2" }, { b: "2", a: "1" })).toBe(true);
    expect(sameLabels({ a: "1" }, { a: "1", b: "2" })).toBe(false);
    expect(sameLabels({ a: "1" }, { a: "2" })).toBe(false);
  });
});

describe("targets", () => {
  it("selects by every label given and by role", () => {
    const labels = { tier: "batch", zone: "a" };
    expect(matchesSelector(labels, "node", { labels: {} })).toBe(true);
    expect(matchesSelector(labels, "node", { labels: { tier: "batch" } })).toBe(true);
    expect(matchesSelector(labels, "node", { labels: { tier: "batch", zone: "b" } })).toBe(false);
    expect(matchesSelector(labels, "node", { labels: {}, role: "verifier" })).toBe(false);
  });

  it("takes 1 to 1000 node ids", () => {
    const ids = (count: number) => ({ nodeIds: Array.from({ length: count }, (_, i) => `n${i}`) });
    expect(NodeTargetSchema.safeParse(ids(0)).success).toBe(false);
    expect(NodeTargetSchema.safeParse(ids(1)).success).toBe(true);
    expect(NodeTargetSchema.safeParse(ids(1000)).success).toBe(true);
    expect(NodeTargetSchema.safeParse(ids(1001)).success).toBe(false);
  });
});

describe("fleetIntervals", () => {
  it("takes values within the protocol's bounds and falls back to defaults otherwise", () => {
    expect(fleetIntervals({})).toEqual(FLEET_INTERVAL_DEFAULTS);
    expect(
      fleetIntervals({ FLEET_HEARTBEAT_INTERVAL_MS: "1000", FLEET_TELEMETRY_INTERVAL_MS: "100" }),
    ).toEqual({ heartbeatIntervalMs: 1000, telemetryIntervalMs: 100 });
    expect(
      fleetIntervals({ FLEET_HEARTBEAT_INTERVAL_MS: "999", FLEET_TELEMETRY_INTERVAL_MS: "99" }),
    ).toEqual(FLEET_INTERVAL_DEFAULTS);
    expect(fleetIntervals({ FLEET_HEARTBEAT_INTERVAL_MS: "300000" }).heartbeatIntervalMs).toBe(
      300_000,
    );
    expect(fleetIntervals({ FLEET_HEARTBEAT_INTERVAL_MS: "300001" }).heartbeatIntervalMs).toBe(
      FLEET_INTERVAL_DEFAULTS.heartbeatIntervalMs,
    );
    expect(fleetIntervals({ FLEET_TELEMETRY_INTERVAL_MS: "1.5e3" }).telemetryIntervalMs).toBe(1500);
    expect(fleetIntervals({ FLEET_TELEMETRY_INTERVAL_MS: "abc" }).telemetryIntervalMs).toBe(
      FLEET_INTERVAL_DEFAULTS.telemetryIntervalMs,
    );
  });
});
