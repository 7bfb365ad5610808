CREATE TABLE `agent_types` (
	`id` text PRIMARY KEY NOT NULL,
	`scope` text NOT NULL,
	`name` text NOT NULL,
	`version` text NOT NULL,
	`description` text NOT NULL,
	`model` text NOT NULL,
	`system_prompt` text NOT NULL,
	`default_budget_json` text NOT NULL,
	`capabilities_json` text NOT NULL,
	`status` text NOT NULL,
	`created_at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `agent_types_scope_name_version_uq` ON `agent_types` (`scope`,`name`,`version`);--> statement-breakpoint
CREATE INDEX `agent_types_name_idx` ON `agent_types` (`name`);--> statement-breakpoint
CREATE TABLE `api_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`name` text NOT NULL,
	`role` text NOT NULL,
	`process_id` text,
	`prefix` text NOT NULL,
	`secret_hash` text NOT NULL,
	`created_by` text NOT NULL,
	`created_at_ms` integer NOT NULL,
	`expires_at_ms` integer,
	`revoked_at_ms` integer,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_keys_secret_hash_unique` ON `api_keys` (`secret_hash`);--> statement-breakpoint
CREATE INDEX `api_keys_tenant_idx` ON `api_keys` (`tenant_id`,`id`);--> statement-breakpoint
CREATE TABLE `audit_log` (
	`id` text PRIMARY KEY NOT NULL,
	`at_ms` integer NOT NULL,
	`tenant_id` text,
	`actor` text NOT NULL,
	`actor_role` text NOT NULL,
	`action` text NOT NULL,
	`target` text,
	`decision` text NOT NULL,
	`status` integer NOT NULL,
	`request_id` text NOT NULL,
	`detail_json` text
);
--> statement-breakpoint
CREATE INDEX `audit_tenant_at_idx` ON `audit_log` (`tenant_id`,`at_ms`);--> statement-breakpoint
CREATE INDEX `audit_actor_idx` ON `audit_log` (`actor`,`at_ms`);--> statement-breakpoint
CREATE INDEX `audit_action_idx` ON `audit_log` (`action`,`at_ms`);--> statement-breakpoint
CREATE TABLE `idempotency_keys` (
	`tenant_id` text NOT NULL,
	`scope` text NOT NULL,
	`key` text NOT NULL,
	`request_hash` text NOT NULL,
	`resource_id` text NOT NULL,
	`created_at_ms` integer NOT NULL,
	PRIMARY KEY(`tenant_id`, `scope`, `key`)
);
--> statement-breakpoint
CREATE TABLE `process_index` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`type_name` text NOT NULL,
	`type_version` text NOT NULL,
	`status` text NOT NULL,
	`priority` integer NOT NULL,
	`parent_id` text,
	`created_at_ms` integer NOT NULL,
	`updated_at_ms` integer NOT NULL,
	`version` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `process_index_tenant_idx` ON `process_index` (`tenant_id`,`id`);--> statement-breakpoint
CREATE INDEX `process_index_tenant_status_idx` ON `process_index` (`tenant_id`,`status`,`id`);--> statement-breakpoint
CREATE INDEX `process_index_tenant_type_idx` ON `process_index` (`tenant_id`,`type_name`,`id`);--> statement-breakpoint
CREATE TABLE `process_labels` (
	`process_id` text NOT NULL,
	`tenant_id` text NOT NULL,
	`key` text NOT NULL,
	`value` text NOT NULL,
	PRIMARY KEY(`process_id`, `key`)
);
--> statement-breakpoint
CREATE INDEX `process_labels_lookup_idx` ON `process_labels` (`tenant_id`,`key`,`value`,`process_id`);--> statement-breakpoint
CREATE TABLE `tenants` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`status` text DEFAULT 'active' NOT NULL,
	`created_at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `tenants_name_unique` ON `tenants` (`name`);