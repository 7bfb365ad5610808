import { describe, expect, it } from "vitest";
import { verifyAssignmentSignature } from "../../src/schedcp/signing.js";
import { call, newTenant } from "../helpers.js";
import { connectHello, enroll, eventually } from "./helpers.js";
import {
  createFifoCopy,
  FIFO_OBJECT,
  FORBIDDEN_OBJECT,
  passed,
  sha256Hex,
  takeVerifyJob,
  upload,
} from "./sched-helpers.js";

interface VersionDetail {
  status: string;
  statusReason: string | null;
  objectSha256: string | null;
  parameters: Record<string, number | boolean>;
  signed: { keyId: string; expiresAt: string } | null;
  verification: { ok: boolean; tasksScheduled: number; kernelRelease: string | null } | null;
}

async function version(token: string, id: string, v = 1) {
  return (await call<VersionDetail>("GET", `/v1/policies/${id}/versions/${v}`, { token })).body;
}

async function verifierSetup() {
  const t = await newTenant("verify");
  const verifier = await enroll(t, { role: "verifier", nodeId: "vm-1" });
  const socket = await connectHello(verifier.credential, { role: "verifier" });
  const policyId = await createFifoCopy(t);
  return { t, verifier, socket, policyId };
}

describe("verification on a verifier node", () => {
  it("sends a checked version to the verifier; its object passes the object checks; the version is signed", async () => {
    const { t, verifier, socket, policyId } = await verifierSetup();
    const started = call<{ jobId: string; nodeId: string; status: string }>(
      "POST",
      `/v1/policies/${policyId}/versions/1/verify`,
      { token: t.operator, body: { workloadMs: 2_000 } },
    );
    const { job } = await takeVerifyJob(socket);
    const res = await started;
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ jobId: job.jobId, nodeId: "vm-1", status: "verifying" });
    expect(job).toMatchObject({
      policyId,
      version: 1,
      opsName: "ek_fifo",
      workloadMs: 2_000,
      uploadPath: `/v1/fleet/verify-jobs/${job.jobId}/object`,
    });
    expect(job.source).toContain("struct sched_ext_ops");
    expect((await version(t.reader, policyId)).status).toBe("verifying");

    const sha = await sha256Hex(FIFO_OBJECT);
    const put = await upload(verifier.credential, job.uploadPath, FIFO_OBJECT);
    expect(put).toEqual({
      status: 201,
      body: { jobId: job.jobId, sha256: sha, sizeBytes: FIFO_OBJECT.byteLength },
    });
    socket.send({
      type: "verify-result",
      result: passed(job.jobId, { sha256: sha, sizeBytes: FIFO_OBJECT.byteLength }),
    });
    const signed = await eventually(
      () => version(t.reader, policyId),
      (v) => v.status === "signed",
    );
    expect(signed).toMatchObject({
      statusReason: null,
      objectSha256: sha,
      verification: { ok: true, tasksScheduled: 2, kernelRelease: "7.3.0-1-cloud-amd64" },
    });
    // The signature covers exactly the payload a node will check.
    const expiresAtMs = Date.parse(signed.signed!.expiresAt);
    expect(expiresAtMs - Date.now()).toBeGreaterThan(29 * 24 * 3_600_000);
    const row = await call<{ items: Array<{ action: string; target: string }> }>(
      "GET",
      `/v1/audit?tenantId=${t.id}`,
      { token: "test-admin-token" },
    );
    expect(row.body.items.map((i) => i.action)).toEqual(
      expect.arrayContaining(["sched_policy.verify", "fleet.verify_job.upload"]),
    );
    expect(signed.signed!.keyId).toBe(verifier.keyId);
    const again = await call("POST", `/v1/policies/${policyId}/versions/1/verify`, {
      token: t.operator,
    });
    expect(again.status).toBe(409);
    // A late repeat of the result changes nothing.
    socket.send({ type: "verify-result", result: passed(job.jobId, null, { ok: false }) });
    await new Promise((r) => setTimeout(r, 100));
    expect((await version(t.reader, policyId)).status).toBe("signed");
    expect(
      await verifyAssignmentSignature(
        verifier.signingPublicKey,
        {
          policyId,
          version: 1,
          artifactSha256: sha,
          parameters: signed.parameters,
          expiresAtMs,
        },
        await signatureOf(policyId),
      ),
    ).toBe(true);
  });

  it("rejects a version whose uploaded object fails the object checks, with the findings", async () => {
    const { t, verifier, socket, policyId } = await verifierSetup();
    const started = call("POST", `/v1/policies/${policyId}/versions/1/verify`, {
      token: t.operator,
    });
    const { job } = await takeVerifyJob(socket);
    expect((await started).status).toBe(202);
    const sha = await sha256Hex(FORBIDDEN_OBJECT);
    expect((await upload(verifier.credential, job.uploadPath, FORBIDDEN_OBJECT)).status).toBe(201);
    socket.send({
      type: "verify-result",
      result: passed(job.jobId, { sha256: sha, sizeBytes: FORBIDDEN_OBJECT.byteLength }),
    });
    const rejected = await eventually(
      () => version(t.reader, policyId),
      (v) => v.status === "rejected",
    );
    expect(rejected.statusReason).toMatch(/object checks: helper_not_allowed/);
    expect(rejected.signed).toBeNull();
  });

  it("rejects a version the VM stage failed, naming the stage and the kernel's message", async () => {
    const { t, socket, policyId } = await verifierSetup();
    const started = call("POST", `/v1/policies/${policyId}/versions/1/verify`, {
      token: t.operator,
    });
    const { job } = await takeVerifyJob(socket);
    expect((await started).status).toBe(202);
    const result = passed(job.jobId, null, { ok: false, loaded: false, tasksScheduled: 0 });
    result.stages = [
      result.stages[0]!,
      result.stages[1]!,
      { stage: "load", ok: false, durationMs: 5, log: "invalid access to map value, value_size=8" },
    ];
    socket.send({ type: "verify-result", result });
    const rejected = await eventually(
      () => version(t.reader, policyId),
      (v) => v.status === "rejected",
    );
    expect(rejected.statusReason).toBe(
      "verification failed at load: invalid access to map value, value_size=8",
    );
    expect(rejected.verification).toMatchObject({ ok: false });
  });

  it("a result without the upload it names is rejected", async () => {
    const { t, socket, policyId } = await verifierSetup();
    const started = call("POST", `/v1/policies/${policyId}/versions/1/verify`, {
      token: t.operator,
    });
    const { job } = await takeVerifyJob(socket);
    await started;
    socket.send({
      type: "verify-result",
      result: passed(job.jobId, { sha256: "a".repeat(64), sizeBytes: 10 }),
    });
    const rejected = await eventually(
      () => version(t.reader, policyId),
      (v) => v.status === "rejected",
    );
    expect(rejected.statusReason).toBe("the verifier passed it but uploaded no object");
  });

  it("returns the version to checked when the verifier never answers (retryable)", async () => {
    const { t, socket, policyId } = await verifierSetup();
    const started = call("POST", `/v1/policies/${policyId}/versions/1/verify`, {
      token: t.operator,
      body: { timeoutMs: 5_000 },
    });
    await takeVerifyJob(socket);
    expect((await started).status).toBe(202);
    // The verifier goes away; the job runs out of time.
    socket.ws.close(1000, "gone");
    const back = await eventually(
      () => version(t.reader, policyId),
      (v) => v.status === "checked",
      400,
    );
    expect(back.statusReason).toMatch(/^verifier vm-1 sent no result within 5000 ms/);
  });
});

describe("verification refused", () => {
  it("503 when no verifier is connected, and when the only one refuses the job; the version stays checked", async () => {
    const t = await newTenant("verify");
    const policyId = await createFifoCopy(t);
    const none = await call<{ code: string; reason: string }>(
      "POST",
      `/v1/policies/${policyId}/versions/1/verify`,
      { token: t.operator },
    );
    expect(none.status).toBe(503);
    expect(none.body).toMatchObject({ code: "unavailable", reason: "no_verifier" });
    expect((await version(t.reader, policyId)).status).toBe("checked");
    // A workload node is no verifier.
    const node = await enroll(t, { nodeId: "n-1" });
    await connectHello(node.credential);
    expect(
      (await call("POST", `/v1/policies/${policyId}/versions/1/verify`, { token: t.operator }))
        .status,
    ).toBe(503);

    const verifier = await enroll(t, { role: "verifier", nodeId: "vm-1" });
    const socket = await connectHello(verifier.credential, { role: "verifier" });
    const refused = call<{ reason: string; tried: Array<{ status: string; error: string }> }>(
      "POST",
      `/v1/policies/${policyId}/versions/1/verify`,
      { token: t.operator },
    );
    for (;;) {
      const frame = await socket.next();
      if (frame.type === "command") {
        socket.send({
          type: "ack",
          commandId: frame.commandId,
          ok: false,
          error: { code: "busy", message: "a verification job is running" },
        });
        break;
      }
    }
    const res = await refused;
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({
      reason: "refused",
      tried: [{ nodeId: "vm-1", status: "failed", error: "busy: a verification job is running" }],
    });
    expect(await version(t.reader, policyId)).toMatchObject({
      status: "checked",
      statusReason: expect.stringMatching(/busy/),
    });
  });

  it("refuses a built-in, a reader, an unknown or foreign version, and bad bounds", async () => {
    const t = await newTenant("verify");
    const other = await newTenant("verify");
    const policyId = await createFifoCopy(t);
    const post = (path: string, token: string, body?: unknown) =>
      call<{ code: string; errors?: Array<{ path: string }> }>("POST", path, { token, body });
    expect((await post("/v1/policies/spol_fifo/versions/1/verify", t.operator)).status).toBe(403);
    expect((await post(`/v1/policies/${policyId}/versions/1/verify`, t.reader)).status).toBe(403);
    expect((await post(`/v1/policies/${policyId}/versions/9/verify`, t.operator)).status).toBe(404);
    expect((await post(`/v1/policies/${policyId}/versions/1/verify`, other.operator)).status).toBe(
      404,
    );
    const bad = await post(`/v1/policies/${policyId}/versions/1/verify`, t.operator, {
      workloadMs: 500,
      timeoutMs: "soon",
    });
    expect(bad.status).toBe(422);
    expect(bad.body.errors?.map((e) => e.path).sort()).toEqual(["timeoutMs", "workloadMs"]);
    const unknown = await post(`/v1/policies/${policyId}/versions/1/verify`, t.operator, {
      nope: 1,
    });
    expect(unknown.status).toBe(422);
    expect((await version(t.reader, policyId)).status).toBe("checked");
  });
});

describe("the object upload", () => {
  it("takes only the job's node, while the job runs, up to the object limit", async () => {
    const { t, verifier, socket, policyId } = await verifierSetup();
    const started = call("POST", `/v1/policies/${policyId}/versions/1/verify`, {
      token: t.operator,
    });
    const { job } = await takeVerifyJob(socket);
    await started;
    const stranger = await enroll(t, { role: "verifier", nodeId: "vm-2" });
    expect((await upload(stranger.credential, job.uploadPath, FIFO_OBJECT)).status).toBe(404);
    expect((await upload("nk_nobody", job.uploadPath, FIFO_OBJECT)).status).toBe(401);
    expect((await upload(t.operator, job.uploadPath, FIFO_OBJECT)).status).toBe(401);
    expect(
      (await upload(verifier.credential, "/v1/fleet/verify-jobs/vjob_unknown/object", FIFO_OBJECT))
        .status,
    ).toBe(404);
    expect(
      (await upload(verifier.credential, "/v1/fleet/verify-jobs/not-a-job/object", FIFO_OBJECT))
        .status,
    ).toBe(422);
    const tooBig = new Uint8Array(4_194_305);
    const big = await upload(verifier.credential, job.uploadPath, tooBig);
    expect(big.status).toBe(413);
    expect(big.body).toMatchObject({ code: "payload_too_large", limitBytes: 4_194_304 });
    expect((await upload(verifier.credential, job.uploadPath, new Uint8Array(0))).status).toBe(422);
    socket.send({ type: "verify-result", result: passed(job.jobId, null, { ok: false }) });
    await eventually(
      () => version(t.reader, policyId),
      (v) => v.status === "rejected",
    );
    const late = await upload(verifier.credential, job.uploadPath, FIFO_OBJECT);
    expect(late.status).toBe(409);
  });
});

/** The stored signature of a signed version (read from D1 through the repository's row). */
async function signatureOf(policyId: string): Promise<string> {
  const { env } = await import("cloudflare:workers");
  const row = await (env as unknown as { DB: D1Database }).DB.prepare(
    "SELECT signature FROM sched_policy_versions WHERE policy_id = ? AND version = 1",
  )
    .bind(policyId)
    .first<{ signature: string }>();
  return row!.signature;
}
