/**
 * `POST /v1/policies/{id}/versions/{v}/outcomes` against real D1: an outcome on a node or a
 * label group lands in the policy's history (which recommendations read); bad input is
 * problem+json naming the fields; unknown or foreign policies, versions and nodes are 404;
 * readers write nothing.
 */

import { describe, expect, it } from "vitest";
import { call, newTenant } from "../helpers.js";
import { enroll } from "./helpers.js";
import { createFifoCopy } from "./sched-helpers.js";

const OUTCOME = {
  target: { selector: { labels: { tier: "web" }, role: "node" } },
  workloadClass: "latency-sensitive",
  metricsBefore: { runDelayUs: 2_000 },
  metricsAfter: { runDelayUs: 500 },
  outcome: "improved",
};

interface Problem {
  code: string;
  errors?: Array<{ path: string }>;
}

describe("POST /v1/policies/{id}/versions/{v}/outcomes", () => {
  it("records an outcome on a group or a node, shown in the policy's history and audited", async () => {
    const t = await newTenant("outcome");
    await enroll(t, { nodeId: "web-1" });
    const id = await createFifoCopy(t);
    const group = await call<Record<string, unknown>>(
      "POST",
      `/v1/policies/${id}/versions/1/outcomes`,
      { token: t.operator, body: OUTCOME },
    );
    expect(group.status, JSON.stringify(group.body)).toBe(201);
    expect(group.body).toMatchObject({
      policyId: id,
      version: 1,
      targetKind: "group",
      target: "tier=web;role=node",
      outcome: "improved",
      rolloutId: null,
    });
    const node = await call("POST", `/v1/policies/${id}/versions/1/outcomes`, {
      token: t.operator,
      body: { ...OUTCOME, target: { nodeId: "web-1" }, outcome: "regressed" },
    });
    expect(node.status).toBe(201);
    const history = await call<{ items: Array<Record<string, unknown>> }>(
      "GET",
      `/v1/policies/${id}/history`,
      { token: t.reader },
    );
    const performance = history.body.items.filter((i) => i.kind === "performance");
    expect(performance.map((i) => [i.target, i.outcome]).sort()).toEqual([
      ["tier=web;role=node", "improved"],
      ["web-1", "regressed"],
    ]);
    const audit = await call<{ items: Array<{ action: string; target: string }> }>(
      "GET",
      `/v1/audit?tenantId=${t.id}&action=sched_policy.outcome_record`,
      { token: "test-admin-token" },
    );
    expect(audit.body.items).toHaveLength(2);
    expect(audit.body.items[0]?.target).toBe(id);
  });

  it("refuses readers, bad input, and unknown or foreign policies, versions and nodes", async () => {
    const t = await newTenant("outcome-bad");
    const other = await newTenant("outcome-other");
    await enroll(other, { nodeId: "theirs-1" });
    const id = await createFifoCopy(t);
    const theirs = await createFifoCopy(other);
    const path = `/v1/policies/${id}/versions/1/outcomes`;
    const post = (body: unknown, token = t.operator, at = path) =>
      call<Problem>("POST", at, { token, body });

    expect((await post(OUTCOME, t.reader)).status).toBe(403);
    const malformed = await call<Problem>("POST", path, {
      token: t.operator,
      raw: "{not json",
      headers: { "content-type": "application/json" },
    });
    expect(malformed.status).toBe(400);

    const wrong = await post({ ...OUTCOME, outcome: "great", metricsAfter: { "9bad": 1 } });
    expect(wrong.status).toBe(422);
    expect(wrong.body.errors?.map((e) => e.path).sort()).toEqual(
      expect.arrayContaining(["outcome"]),
    );
    expect(JSON.stringify(wrong.body.errors)).toContain("metricsAfter");
    const unknownField = await post({ ...OUTCOME, extra: 1 });
    expect(unknownField.status).toBe(422);
    const tooMany = await post({
      ...OUTCOME,
      metricsBefore: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`m${i}`, i])),
    });
    expect(tooMany.status).toBe(422);
    expect(JSON.stringify(tooMany.body.errors)).toContain("metricsBefore");

    const foreignNode = await post({ ...OUTCOME, target: { nodeId: "theirs-1" } });
    expect(foreignNode.status).toBe(404);
    const foreignPolicy = await post(
      OUTCOME,
      t.operator,
      `/v1/policies/${theirs}/versions/1/outcomes`,
    );
    expect(foreignPolicy.status).toBe(404);
    const noVersion = await post(OUTCOME, t.operator, `/v1/policies/${id}/versions/9/outcomes`);
    expect(noVersion.status).toBe(404);
    // Nothing of the refused requests was written.
    const history = await call<{ items: unknown[] }>("GET", `/v1/policies/${id}/history`, {
      token: t.reader,
    });
    expect(history.body.items).toEqual([]);
  });
});
