/**
 * Process tools: spawn, list, get, pause, resume, terminate. Each is a thin adapter over the
 * same function the HTTPS route calls (src/objects/process-calls.ts).
 */

import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { ProcessRecord } from "../../kernel/process/record.js";
import type { ProcessSignal } from "../../objects/agent-process.js";
import { getProcess, listProcesses, signalProcess, spawnAs } from "../../objects/process-calls.js";
import type { McpContext } from "../context.js";
import { READ_ONLY, runTool } from "./run.js";
import {
  ListProcessesInput,
  ProcessIdInput,
  ProcessOutput,
  ProcessPageOutput,
  SignalInput,
  SignalOutput,
  SpawnOutput,
  SpawnProcessInput,
} from "./schemas.js";

function describe(p: ProcessRecord): string {
  return `${p.id} (${p.type.name}@${p.type.version}) is ${p.status}${p.note ? `: ${p.note}` : ""}`;
}

/**
 * Registers the process tools on `server` for the caller in `ctx`.
 *
 * @example registerProcessTools(server, ctx)
 */
export function registerProcessTools(server: McpServer, ctx: McpContext): void {
  server.registerTool(
    "spawn_process",
    {
      title: "Spawn a process",
      description:
        "Start an agent process of an agent type in your tenant. Pass `idempotencyKey` to make a retry return the same process.",
      inputSchema: SpawnProcessInput,
      outputSchema: SpawnOutput,
      annotations: {
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: false,
        openWorldHint: false,
      },
    },
    (args) =>
      runTool(ctx, "spawn_process", {}, async () => {
        const { record, replayed } = await spawnAs(ctx.env, ctx.db, ctx.caller.principal, args);
        return {
          structured: { ...record, replayed },
          summary: `${replayed ? "Replayed" : "Spawned"} ${describe(record)}.`,
          target: record.id,
          detail: { type: `${record.type.name}@${record.type.version}`, replayed },
        };
      }),
  );

  server.registerTool(
    "list_processes",
    {
      title: "List processes",
      description:
        "Your tenant's processes, newest first, filtered by status, agent type and labels; pass `nextCursor` back as `cursor` for the next page.",
      inputSchema: ListProcessesInput,
      outputSchema: ProcessPageOutput,
      annotations: READ_ONLY,
    },
    (args) =>
      runTool(ctx, "list_processes", {}, async () => {
        const page = await listProcesses(ctx.env, ctx.db, ctx.caller.principal, {
          status: args.status,
          type: args.type,
          labels: Object.entries(args.labels ?? {}).map(([key, value]) => ({ key, value })),
          limit: args.limit,
          cursor: args.cursor,
        });
        const more = page.nextCursor ? " (more: pass nextCursor as cursor)" : "";
        return { structured: page, summary: `${page.items.length} processes${more}.` };
      }),
  );

  server.registerTool(
    "get_process",
    {
      title: "Get a process",
      description: "A process's full record: status, budget and usage, stats, result.",
      inputSchema: ProcessIdInput,
      outputSchema: ProcessOutput,
      annotations: READ_ONLY,
    },
    (args) =>
      runTool(ctx, "get_process", args, async () => {
        const record = await getProcess(ctx.env, ctx.db, ctx.caller.principal, args);
        return { structured: record, summary: `${describe(record)}.` };
      }),
  );

  const signals: Array<{
    signal: ProcessSignal;
    title: string;
    description: string;
    destructive: boolean;
    idempotent: boolean;
  }> = [
    {
      signal: "pause",
      title: "Pause a process",
      description:
        "Suspend a live process; a running one stops at its next step boundary. Resume returns it to the state it left.",
      destructive: false,
      idempotent: false,
    },
    {
      signal: "resume",
      title: "Resume a process",
      description: "Resume a paused process in the state it left.",
      destructive: false,
      idempotent: false,
    },
    {
      signal: "terminate",
      title: "Terminate a process",
      description:
        "End a process for good, aborting a model call in flight. Terminating an ended process returns it unchanged.",
      destructive: true,
      idempotent: true,
    },
  ];
  for (const s of signals) {
    const tool = `${s.signal}_process`;
    server.registerTool(
      tool,
      {
        title: s.title,
        description: s.description,
        inputSchema: SignalInput,
        outputSchema: SignalOutput,
        annotations: {
          readOnlyHint: false,
          destructiveHint: s.destructive,
          idempotentHint: s.idempotent,
          openWorldHint: false,
        },
      },
      (args) =>
        runTool(ctx, tool, args, async () => {
          const { record, changed } = await signalProcess(ctx.env, ctx.db, ctx.caller.principal, {
            id: args.id,
            signal: s.signal,
            reason: args.reason,
          });
          return {
            structured: { ...record, changed },
            summary: `${changed ? "" : "Unchanged: "}${describe(record)}.`,
            detail: { status: record.status, changed, reason: args.reason ?? null },
          };
        }),
    );
  }
}
