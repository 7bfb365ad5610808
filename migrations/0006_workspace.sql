CREATE TABLE `workspace_limits` (
	`tenant_id` text PRIMARY KEY NOT NULL,
	`process_max_bytes` integer,
	`process_max_objects` integer,
	`tenant_max_bytes` integer,
	`tenant_max_objects` integer
);
--> statement-breakpoint
CREATE TABLE `workspace_usage` (
	`process_id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`bytes` integer DEFAULT 0 NOT NULL,
	`objects` integer DEFAULT 0 NOT NULL,
	`updated_at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `workspace_usage_tenant_idx` ON `workspace_usage` (`tenant_id`);