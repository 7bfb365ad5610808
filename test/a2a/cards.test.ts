import { AgentCard } from "@a2a-js/sdk";
import { beforeAll, describe, expect, it } from "vitest";
import { call, defineType, finishTurn, newTenant, type TestTenant } from "../helpers";
import { ORIGIN } from "./rpc";

interface Card {
  name: string;
  version: string;
  supportedInterfaces: Array<{ url: string; protocolBinding: string; protocolVersion: string }>;
  capabilities: { streaming: boolean; pushNotifications: boolean };
  securitySchemes: Record<string, { httpAuthSecurityScheme?: { scheme: string } }>;
  securityRequirements: Array<{ schemes: Record<string, unknown> }>;
  skills: Array<{ id: string; name: string; tags: string[] }>;
}

describe("the deployment's Agent Card", () => {
  let t: TestTenant;
  let tenantType: string;
  beforeAll(async () => {
    t = await newTenant("a2a-card");
    tenantType = await defineType(t, { script: [finishTurn("ok")] });
  });

  it("is public, points at the JSON-RPC endpoint, and lists the built-in types as skills", async () => {
    const res = await call<Card>("GET", "/.well-known/agent-card.json");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/application\/json/);
    expect(res.body.supportedInterfaces).toEqual([
      { url: `${ORIGIN}/a2a`, protocolBinding: "JSONRPC", protocolVersion: "1.0" },
    ]);
    expect(res.body.capabilities).toMatchObject({ streaming: true, pushNotifications: false });
    expect(res.body.securitySchemes.bearer?.httpAuthSecurityScheme?.scheme).toBe("Bearer");
    expect(res.body.securityRequirements).toEqual([{ schemes: { bearer: { list: [] } } }]);
    const skills = res.body.skills.map((s) => s.id);
    expect(skills).toContain("assistant");
    // A tenant's own types are not shown to the world.
    expect(skills).not.toContain(tenantType);
  });

  it("parses with the SDK's AgentCard reader into the same interface and scheme", async () => {
    const res = await call<Card>("GET", "/.well-known/agent-card.json");
    const parsed = AgentCard.fromJSON(res.body);
    expect(parsed.supportedInterfaces[0]).toMatchObject({
      url: `${ORIGIN}/a2a`,
      protocolBinding: "JSONRPC",
    });
    expect(parsed.securitySchemes.bearer?.scheme?.$case).toBe("httpAuthSecurityScheme");
  });
});

describe("an agent type's Agent Card", () => {
  let t: TestTenant;
  let other: TestTenant;
  let tenantType: string;
  beforeAll(async () => {
    t = await newTenant("a2a-card");
    other = await newTenant("a2a-card-other");
    tenantType = await defineType(t, { script: [finishTurn("ok")] });
  });

  it("of a built-in type is public and points at that type's endpoint", async () => {
    const res = await call<Card>("GET", "/a2a/assistant/.well-known/agent-card.json");
    expect(res.status).toBe(200);
    expect(res.body.name).toBe("assistant");
    expect(res.body.supportedInterfaces[0]?.url).toBe(`${ORIGIN}/a2a/assistant`);
    expect(res.body.skills.map((s) => s.id)).toEqual(["assistant"]);
  });

  it("of a tenant's type is shown to that tenant's keys only", async () => {
    const path = `/a2a/${tenantType}/.well-known/agent-card.json`;
    expect((await call("GET", path)).status).toBe(404);
    expect((await call("GET", path, { token: other.reader })).status).toBe(404);
    const own = await call<Card>("GET", path, { token: t.reader });
    expect(own.status).toBe(200);
    expect(own.body).toMatchObject({ name: tenantType, version: "1.0.0" });
    expect(own.body.supportedInterfaces[0]?.url).toBe(`${ORIGIN}/a2a/${tenantType}`);
    expect(own.headers.get("cache-control")).toBe("private, no-store");
  });

  it("is 404 for an unknown or malformed type and 401 for a bad credential", async () => {
    expect((await call("GET", "/a2a/no-such-type/.well-known/agent-card.json")).status).toBe(404);
    expect((await call("GET", "/a2a/Bad_Name!/.well-known/agent-card.json")).status).toBe(404);
    const bad = await call("GET", "/a2a/assistant/.well-known/agent-card.json", {
      token: "ek_not_a_key",
    });
    expect(bad.status).toBe(401);
  });
});
