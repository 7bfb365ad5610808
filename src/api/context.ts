/** The Hono environment every route and middleware shares. */

import type { Env } from "../env.js";
import type { KeyRole } from "../store/api-keys.js";
import type { Db } from "../store/db.js";

/** Who is calling: the system administrator (ADMIN_TOKEN) or an API key of one tenant. */
export type Principal =
  | { kind: "system"; actor: "system:admin"; role: "system" }
  | {
      kind: "key";
      actor: string;
      keyId: string;
      tenantId: string;
      role: KeyRole;
      /** Set for an agent key: it may act as this process only. */
      processId: string | null;
    };

/** What the audit middleware records about the call; handlers fill in the target. */
export interface AuditNote {
  /** Who acted, when no API key did (e.g. the node an enrollment token enrolled). */
  actor?: string;
  actorRole?: string;
  target?: string | null;
  tenantId?: string | null;
  detail?: Record<string, unknown>;
}

export interface AppEnv {
  Bindings: Env;
  Variables: {
    requestId: string;
    db: Db;
    principal: Principal | undefined;
    audit: AuditNote;
  };
}
