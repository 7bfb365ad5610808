import { describe, expect, it } from "vitest";
import { call } from "../helpers";

describe("API description", () => {
  it("serves an OpenAPI 3.1 document covering the whole contract", async () => {
    const res = await call<{
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
      components: { schemas: Record<string, unknown> };
    }>("GET", "/openapi.json");
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe("3.1.0");
    const expected: Array<[string, string]> = [
      ["/healthz", "get"],
      ["/v1/processes", "post"],
      ["/v1/processes", "get"],
      ["/v1/processes/{id}", "get"],
      ["/v1/processes/{id}/events", "get"],
      ["/v1/processes/{id}/pause", "post"],
      ["/v1/processes/{id}/resume", "post"],
      ["/v1/processes/{id}/terminate", "post"],
      ["/v1/agent-types", "get"],
      ["/v1/agent-types", "post"],
      ["/v1/tenants", "post"],
      ["/v1/keys", "post"],
      ["/v1/keys", "get"],
      ["/v1/keys/{id}", "delete"],
      ["/v1/audit", "get"],
    ];
    for (const [path, method] of expected) {
      expect(res.body.paths[path]?.[method], `${method.toUpperCase()} ${path}`).toBeDefined();
    }
    for (const schema of ["SpawnRequest", "Process", "Problem", "AuditRecord"]) {
      expect(res.body.components.schemas[schema], schema).toBeDefined();
    }
  });

  it("serves an interactive reference page at /docs pointing at the document", async () => {
    const res = await call<string>("GET", "/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(res.body).toContain("/openapi.json");
  });

  it("answers /healthz without credentials", async () => {
    const res = await call("GET", "/healthz");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ok: true });
  });
});
