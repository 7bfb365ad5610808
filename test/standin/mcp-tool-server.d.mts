/** Types for mcp-tool-server.mjs. */
export declare function startMcpToolServer(
  port?: number,
): Promise<{ port: number; close(): Promise<void> }>;
