/**
 * The Fleet object's own SQLite: the nodes it has seen, their telemetry and deploy history
 * (bounded per node), the commands in flight and settled, verification results, and the
 * credentials revoked. Synchronous, as Durable Object SQL is; the object decides when to call.
 *
 * One store per table group, all over the same `SqlStorage` (so they share the object's
 * transactions): nodes in fleet-store-nodes.ts, their history in fleet-store-history.ts,
 * commands in fleet-store-commands.ts, verification results in fleet-store-verify-results.ts,
 * and the tables themselves in fleet-store-schema.ts. The tenant and the revoked credentials,
 * a row and a lookup each, are kept here.
 */

import { CommandStore } from "./fleet-store-commands.js";
import { NodeHistoryStore } from "./fleet-store-history.js";
import { NodeStore } from "./fleet-store-nodes.js";
import { FLEET_STORE_SCHEMA } from "./fleet-store-schema.js";
import { VerifyResultStore } from "./fleet-store-verify-results.js";

/** Typed access to one Fleet object's tables. */
export class FleetStore {
  readonly nodes: NodeStore;
  readonly history: NodeHistoryStore;
  readonly commands: CommandStore;
  readonly verifyResults: VerifyResultStore;

  constructor(private readonly sql: SqlStorage) {
    sql.exec(FLEET_STORE_SCHEMA);
    this.nodes = new NodeStore(sql);
    this.history = new NodeHistoryStore(sql);
    this.commands = new CommandStore(sql);
    this.verifyResults = new VerifyResultStore(sql);
  }

  // -------------------------------------------------------------------------------------------
  // The tenant this object serves

  tenant(): string | null {
    return (
      this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'tenant'").toArray()[0]
        ?.value ?? null
    );
  }

  setTenant(tenantId: string): void {
    this.sql.exec("INSERT OR IGNORE INTO meta VALUES ('tenant', ?)", tenantId);
  }

  // -------------------------------------------------------------------------------------------
  // Revoked credentials

  isRevoked(credentialId: string): boolean {
    return (
      this.sql.exec("SELECT 1 FROM revoked WHERE credential_id = ?", credentialId).toArray()
        .length > 0
    );
  }

  revoke(credentialId: string, nodeId: string, nowMs: number): void {
    this.sql.exec("INSERT OR IGNORE INTO revoked VALUES (?, ?, ?)", credentialId, nodeId, nowMs);
  }
}
