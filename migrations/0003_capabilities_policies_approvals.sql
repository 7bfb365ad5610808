CREATE TABLE `approvals` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`process_id` text,
	`principal` text NOT NULL,
	`capability` text NOT NULL,
	`arguments_json` text NOT NULL,
	`risk` text NOT NULL,
	`status` text NOT NULL,
	`policy_ids_json` text NOT NULL,
	`reason` text,
	`decided_by` text,
	`created_at_ms` integer NOT NULL,
	`expires_at_ms` integer NOT NULL,
	`decided_at_ms` integer
);
--> statement-breakpoint
CREATE INDEX `approvals_tenant_status_idx` ON `approvals` (`tenant_id`,`status`,`id`);--> statement-breakpoint
CREATE INDEX `approvals_process_idx` ON `approvals` (`process_id`);--> statement-breakpoint
CREATE TABLE `capabilities` (
	`id` text PRIMARY KEY NOT NULL,
	`scope` text NOT NULL,
	`namespace` text NOT NULL,
	`name` text NOT NULL,
	`version` text NOT NULL,
	`description` text NOT NULL,
	`input_schema_json` text NOT NULL,
	`risk` text NOT NULL,
	`provider` text NOT NULL,
	`status` text NOT NULL,
	`created_at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `capabilities_scope_ns_name_version_uq` ON `capabilities` (`scope`,`namespace`,`name`,`version`);--> statement-breakpoint
CREATE TABLE `entitlements` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`agent_type` text NOT NULL,
	`capability` text NOT NULL,
	`calls_per_min` integer,
	`budget_tokens` integer,
	`created_at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `entitlements_lookup_idx` ON `entitlements` (`tenant_id`,`agent_type`);--> statement-breakpoint
CREATE TABLE `mcp_providers` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`namespace` text NOT NULL,
	`url` text NOT NULL,
	`status` text NOT NULL,
	`tools_json` text NOT NULL,
	`created_at_ms` integer NOT NULL,
	`refreshed_at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `mcp_providers_tenant_ns_uq` ON `mcp_providers` (`tenant_id`,`namespace`);--> statement-breakpoint
CREATE TABLE `policies` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`name` text NOT NULL,
	`description` text NOT NULL,
	`cedar_text` text NOT NULL,
	`version` integer NOT NULL,
	`created_at_ms` integer NOT NULL,
	`updated_at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `policies_tenant_name_uq` ON `policies` (`tenant_id`,`name`);