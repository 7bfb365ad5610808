CREATE TABLE `blackboard_entries` (
	`tenant_id` text NOT NULL,
	`key` text NOT NULL,
	`version` integer NOT NULL,
	`value_json` text,
	`size_bytes` integer NOT NULL,
	`updated_by` text NOT NULL,
	`updated_at_ms` integer NOT NULL,
	`write_id` text NOT NULL,
	PRIMARY KEY(`tenant_id`, `key`)
);
--> statement-breakpoint
CREATE TABLE `blackboard_versions` (
	`tenant_id` text NOT NULL,
	`key` text NOT NULL,
	`version` integer NOT NULL,
	`value_json` text,
	`op` text NOT NULL,
	`written_by` text NOT NULL,
	`written_at_ms` integer NOT NULL,
	PRIMARY KEY(`tenant_id`, `key`, `version`)
);
--> statement-breakpoint
CREATE TABLE `artifact_labels` (
	`artifact_id` text NOT NULL,
	`tenant_id` text NOT NULL,
	`key` text NOT NULL,
	`value` text NOT NULL,
	PRIMARY KEY(`artifact_id`, `key`)
);
--> statement-breakpoint
CREATE INDEX `artifact_labels_lookup_idx` ON `artifact_labels` (`tenant_id`,`key`,`value`,`artifact_id`);--> statement-breakpoint
CREATE TABLE `artifacts` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`process_id` text,
	`name` text NOT NULL,
	`content_type` text NOT NULL,
	`size_bytes` integer NOT NULL,
	`sha256` text NOT NULL,
	`retention` text NOT NULL,
	`created_by` text NOT NULL,
	`created_at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `artifacts_tenant_idx` ON `artifacts` (`tenant_id`,`id`);--> statement-breakpoint
CREATE INDEX `artifacts_tenant_process_idx` ON `artifacts` (`tenant_id`,`process_id`,`id`);--> statement-breakpoint
CREATE INDEX `artifacts_tenant_type_idx` ON `artifacts` (`tenant_id`,`content_type`,`id`);