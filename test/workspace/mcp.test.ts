import { describe, expect, it } from "vitest";
import { call, newTenant } from "../helpers";
import { connect, structured } from "../mcp/client";
import { agentKey, filePath, raw, wsProcess, wsType } from "./ws";

describe("the workspace MCP tools", () => {
  it("write, read, list, share, revoke and delete, over the same calls as HTTPS", async () => {
    const t = await newTenant("wsmcp");
    const type = await wsType(t);
    const owner = await wsProcess(t, type);
    const other = await wsProcess(t, type);
    const operator = await connect(t.operator);
    const tools = (await operator.listTools()).tools.map((x) => x.name);
    for (const name of [
      "read_file",
      "write_file",
      "list_files",
      "delete_file",
      "share_path",
      "revoke_share",
    ]) {
      expect(tools).toContain(name);
    }

    const written = structured<{ created: boolean; sizeBytes: number }>(
      await operator.callTool({
        name: "write_file",
        arguments: { id: owner, path: "docs/a.md", content: "# A" },
      }),
    );
    expect(written).toMatchObject({ created: true, sizeBytes: 3 });
    const bin = structured(
      await operator.callTool({
        name: "write_file",
        arguments: {
          id: owner,
          path: "docs/b.bin",
          content: btoa("\u0001\u00fe"),
          encoding: "base64",
        },
      }),
    );
    expect(bin).toMatchObject({ contentType: "application/octet-stream", sizeBytes: 2 });
    const bytes = new Uint8Array(
      await (await raw("GET", filePath(owner, "docs/b.bin"), t.reader)).arrayBuffer(),
    );
    expect([...bytes]).toEqual([1, 254]);

    const read = structured(
      await operator.callTool({ name: "read_file", arguments: { id: owner, path: "docs/a.md" } }),
    );
    expect(read).toMatchObject({ content: "# A", encoding: "text" });
    const list = structured<{ items: Array<{ path: string }> }>(
      await operator.callTool({ name: "list_files", arguments: { id: owner, prefix: "docs/" } }),
    );
    expect(list.items.map((e) => e.path)).toEqual(["docs/a.md", "docs/b.bin"]);

    // Another process's agent key: nothing until shared, then read, then nothing again.
    const otherClient = await connect(await agentKey(t, other));
    const denied = await otherClient.callTool({
      name: "read_file",
      arguments: { id: owner, path: "docs/a.md" },
    });
    expect(denied.isError).toBe(true);
    expect(JSON.stringify(denied.content)).toContain("not_found");
    structured(
      await operator.callTool({
        name: "share_path",
        arguments: { id: owner, path: "docs/a.md", recipients: [other], mode: "read" },
      }),
    );
    const shared = structured(
      await otherClient.callTool({
        name: "read_file",
        arguments: { id: owner, path: "docs/a.md" },
      }),
    );
    expect(shared).toMatchObject({ content: "# A" });
    const revoked = structured(
      await operator.callTool({
        name: "revoke_share",
        arguments: { id: owner, path: "docs/a.md" },
      }),
    );
    expect(revoked).toEqual({ revoked: 1 });
    const after = await otherClient.callTool({
      name: "read_file",
      arguments: { id: owner, path: "docs/a.md" },
    });
    expect(after.isError).toBe(true);

    const bad = await operator.callTool({
      name: "write_file",
      arguments: { id: owner, path: "a/../b", content: "x" },
    });
    expect(bad.isError).toBe(true);
    structured(
      await operator.callTool({ name: "delete_file", arguments: { id: owner, path: "docs/a.md" } }),
    );
    expect((await raw("GET", filePath(owner, "docs/a.md"), t.reader)).status).toBe(404);

    const audit = await call<{ items: Array<{ action: string }> }>(
      "GET",
      `/v1/audit?action=workspace.share`,
      { token: t.admin },
    );
    expect(audit.body.items.length).toBeGreaterThan(0);
  });
});
