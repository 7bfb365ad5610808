import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { type CliContext, EXIT, runCli } from "../../src/main.js";
import { readNodeState, StateFileError } from "../../src/state.js";
import { FIXTURES_DIR } from "../helpers.js";

interface Received {
  body: Record<string, unknown>;
}

/** A stand-in for POST /v1/fleet/enroll answering `status` with `reply`. */
async function enrollServer(status: number, reply: unknown) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let text = "";
    req.on("data", (d) => {
      text += d;
    });
    req.on("end", () => {
      received.push({ body: JSON.parse(text) });
      res
        .writeHead(status, {
          "content-type": status === 201 ? "application/json" : "application/problem+json",
        })
        .end(JSON.stringify(reply));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

async function tempDir() {
  const dir = await mkdtemp(join(tmpdir(), "edgekernel-enroll-"));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function context() {
  const out = { stdout: "", stderr: "" };
  const ctx: CliContext = {
    env: {},
    cwd: FIXTURES_DIR,
    stdout: (t) => {
      out.stdout += t;
    },
    stderr: (t) => {
      out.stderr += t;
    },
  };
  return { ctx, out };
}

const ENROLLED = {
  nodeId: "web-1",
  tenantId: "ten_1",
  credential: "nk_secret",
  role: "node",
  signingPublicKey: "A".repeat(43),
  keyId: "0123456789abcdef",
};

const ARGS = ["--proc-root", "plain-node/proc", "--sys-root", "plain-node/sys"];

describe("edgekernel-host enroll", () => {
  it("sends its facts, role, labels and requested id, and keeps the credential in a 0600 file", async () => {
    const cp = await enrollServer(201, ENROLLED);
    const dir = await tempDir();
    const stateFile = join(dir, "sub", "state.json");
    const { ctx, out } = context();
    const code = await runCli(
      [
        "enroll",
        "--token",
        "et_tok",
        "--control-plane-url",
        cp.url,
        "--state-file",
        stateFile,
        "--node-id",
        "web-1",
        "--label",
        "zone=a",
        ...ARGS,
      ],
      ctx,
    );
    expect(out.stderr).toBe("");
    expect(code).toBe(EXIT.ok);
    expect(cp.received[0]?.body).toMatchObject({
      token: "et_tok",
      nodeId: "web-1",
      role: "node",
      labels: { zone: "a" },
      agentVersion: "0.1.0",
      facts: { hostname: "plain" },
    });
    expect(JSON.parse(out.stdout)).toMatchObject({ nodeId: "web-1", stateFile });
    expect((await stat(stateFile)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, "sub"))).mode & 0o777).toBe(0o700);
    expect(await readNodeState(stateFile)).toMatchObject({
      nodeId: "web-1",
      credential: "nk_secret",
      signingPublicKey: ENROLLED.signingPublicKey,
      keyId: ENROLLED.keyId,
      controlPlaneUrl: cp.url,
    });
  });

  it("takes the token from the environment, and will not replace an enrollment without --force", async () => {
    const cp = await enrollServer(201, ENROLLED);
    const stateFile = join(await tempDir(), "state.json");
    const first = context();
    first.ctx.env = { EDGEKERNEL_ENROLLMENT_TOKEN: "et_env" };
    const args = ["enroll", "--control-plane-url", cp.url, "--state-file", stateFile, ...ARGS];
    expect(await runCli(args, first.ctx)).toBe(EXIT.ok);
    expect(cp.received[0]?.body.token).toBe("et_env");
    const again = context();
    expect(await runCli([...args, "--token", "et_2"], again.ctx)).toBe(EXIT.failure);
    expect(again.out.stderr).toMatch(/already enrolled as web-1.*--force/);
    expect(cp.received).toHaveLength(1);
    const forced = context();
    expect(await runCli([...args, "--token", "et_2", "--force"], forced.ctx)).toBe(EXIT.ok);
    expect(cp.received).toHaveLength(2);
  });

  it("says why the control plane refused, with the fields, and writes nothing", async () => {
    const cp = await enrollServer(409, {
      code: "conflict",
      detail: "node id web-1 is taken in this tenant",
      errors: [{ path: "nodeId", message: "taken" }],
    });
    const stateFile = join(await tempDir(), "state.json");
    const { ctx, out } = context();
    const code = await runCli(
      [
        "enroll",
        "--token",
        "et_x",
        "--control-plane-url",
        cp.url,
        "--state-file",
        stateFile,
        ...ARGS,
      ],
      ctx,
    );
    expect(code).toBe(EXIT.failure);
    expect(out.stderr).toMatch(
      /enrollment refused: 409 conflict: node id web-1 is taken[\s\S]*nodeId: taken/,
    );
    expect(await readNodeState(stateFile)).toBeNull();
  });

  it("refuses a reply that is not an enrollment, and an unreachable control plane", async () => {
    const cp = await enrollServer(201, { nodeId: "x" });
    const stateFile = join(await tempDir(), "state.json");
    const bad = context();
    expect(
      await runCli(
        [
          "enroll",
          "--token",
          "t",
          "--control-plane-url",
          cp.url,
          "--state-file",
          stateFile,
          ...ARGS,
        ],
        bad.ctx,
      ),
    ).toBe(EXIT.failure);
    expect(bad.out.stderr).toMatch(/not an enrollment/);
    const down = context();
    expect(
      await runCli(
        [
          "enroll",
          "--token",
          "t",
          "--control-plane-url",
          "http://127.0.0.1:1",
          "--state-file",
          stateFile,
          ...ARGS,
        ],
        down.ctx,
      ),
    ).toBe(EXIT.failure);
    expect(down.out.stderr).toMatch(/cannot reach http:\/\/127.0.0.1:1/);
  });
});

describe("the state file", () => {
  it("is refused when it is not JSON or not a state, naming the file", async () => {
    const dir = await tempDir();
    const path = join(dir, "state.json");
    await writeFile(path, "{");
    await expect(readNodeState(path)).rejects.toThrow(StateFileError);
    await writeFile(path, JSON.stringify({ version: 1, nodeId: "x" }));
    await expect(readNodeState(path)).rejects.toThrow(/not an enrollment state/);
    const { ctx, out } = context();
    expect(await runCli(["run", "--state-file", path], ctx)).toBe(EXIT.usage);
    expect(out.stderr).toContain(path);
    expect(await readFile(path, "utf8")).toContain("nodeId");
  });
});
