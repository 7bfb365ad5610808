CREATE TABLE `fleet_enrollment_tokens` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`token_hash` text NOT NULL,
	`role` text NOT NULL,
	`labels_json` text NOT NULL,
	`created_by` text NOT NULL,
	`created_at_ms` integer NOT NULL,
	`expires_at_ms` integer NOT NULL,
	`used_at_ms` integer,
	`used_by_node_id` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `fleet_enrollment_tokens_token_hash_unique` ON `fleet_enrollment_tokens` (`token_hash`);--> statement-breakpoint
CREATE INDEX `fleet_enrollment_tokens_tenant_idx` ON `fleet_enrollment_tokens` (`tenant_id`,`id`);--> statement-breakpoint
CREATE TABLE `fleet_nodes` (
	`tenant_id` text NOT NULL,
	`id` text NOT NULL,
	`role` text NOT NULL,
	`labels_json` text NOT NULL,
	`token_labels_json` text NOT NULL,
	`facts_json` text NOT NULL,
	`agent_version` text NOT NULL,
	`status` text NOT NULL,
	`last_seen_at_ms` integer,
	`running_json` text,
	`dry_run` integer NOT NULL,
	`credential_id` text NOT NULL,
	`credential_hash` text NOT NULL,
	`credential_prefix` text NOT NULL,
	`enrolled_at_ms` integer NOT NULL,
	`enrollment_token_id` text NOT NULL,
	`revoked_at_ms` integer,
	`state_version` integer NOT NULL,
	`updated_at_ms` integer NOT NULL,
	PRIMARY KEY(`tenant_id`, `id`)
);
--> statement-breakpoint
CREATE UNIQUE INDEX `fleet_nodes_credential_hash_unique` ON `fleet_nodes` (`credential_hash`);--> statement-breakpoint
CREATE INDEX `fleet_nodes_tenant_status_idx` ON `fleet_nodes` (`tenant_id`,`status`,`id`);--> statement-breakpoint
CREATE INDEX `fleet_nodes_tenant_role_idx` ON `fleet_nodes` (`tenant_id`,`role`,`id`);