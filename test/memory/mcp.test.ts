/**
 * The memory MCP tools: the same calls as the HTTPS routes, with the same scoping and errors,
 * honest annotations, and an audit row for each write.
 */

import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { describe, expect, it } from "vitest";
import { call, newTenant, spawnIdle } from "../helpers";
import { connect, structured, text } from "../mcp/client";

interface Memory {
  id: string;
  content: string;
  tags: string[];
  provenance: { memoryId: string; processId: string | null; source: string; agentType: string };
  snippet?: string;
}

describe("memory over MCP", () => {
  it("writes and searches a process's memory, with provenance", async () => {
    const t = await newTenant("mem-mcp");
    const p = await spawnIdle(t.operator);
    const client = await connect(t.operator);
    const { tools } = await client.listTools();
    const byName = new Map(tools.map((tool) => [tool.name, tool]));
    expect(byName.get("search_memory")?.annotations).toMatchObject({
      readOnlyHint: true,
      destructiveHint: false,
    });
    expect(byName.get("write_memory")?.annotations).toMatchObject({
      readOnlyHint: false,
      destructiveHint: false,
      idempotentHint: false,
    });

    const written = structured<Memory>(
      await client.callTool({
        name: "write_memory",
        arguments: { id: p.id, content: "The lighthouse lamp is serviced monthly.", tags: ["sea"] },
      }),
    );
    expect(written.provenance).toMatchObject({
      memoryId: written.id,
      processId: p.id,
      source: "explicit",
      agentType: "assistant",
    });
    const found = await client.callTool({
      name: "search_memory",
      arguments: { id: p.id, query: 'lighthouse "lamp' },
    });
    const hits = structured<{ items: Memory[] }>(found);
    expect(hits.items.map((m) => m.id)).toEqual([written.id]);
    expect(text(found)).toContain(written.id);

    // The same memory through HTTPS: one implementation behind both surfaces.
    const viaHttps = await call<{ items: Memory[] }>(
      "GET",
      `/v1/processes/${p.id}/workspace/memory?q=lighthouse`,
      { token: t.reader },
    );
    expect(viaHttps.body.items.map((m) => m.id)).toEqual([written.id]);

    const log = await call<{ items: Array<{ action: string; target: string }> }>(
      "GET",
      "/v1/audit?action=memory.write",
      { token: t.admin },
    );
    expect(log.body.items.map((r) => r.target)).toContain(p.id);
  });

  it("answers errors as tool errors: empty query, foreign process, reader writing", async () => {
    const a = await newTenant("mem-mcp-a");
    const b = await newTenant("mem-mcp-b");
    const pa = await spawnIdle(a.operator);
    const clientB = await connect(b.operator);
    const foreign = (await clientB.callTool({
      name: "search_memory",
      arguments: { id: pa.id, query: "anything" },
    })) as CallToolResult;
    expect(foreign.isError).toBe(true);
    expect(text(foreign)).toContain("not_found");

    const clientA = await connect(a.reader);
    const empty = (await clientA.callTool({
      name: "search_memory",
      arguments: { id: pa.id, query: '"*' },
    })) as CallToolResult;
    expect(empty.isError).toBe(true);
    expect(text(empty)).toContain("validation_failed");

    const readerWrite = (await clientA.callTool({
      name: "write_memory",
      arguments: { id: pa.id, content: "no" },
    })) as CallToolResult;
    expect(readerWrite.isError).toBe(true);
    expect(text(readerWrite)).toContain("forbidden");
  });
});
