CREATE TABLE `memories` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`id` text NOT NULL,
	`tenant_id` text NOT NULL,
	`agent_type` text NOT NULL,
	`process_id` text,
	`step` integer,
	`source` text NOT NULL,
	`content` text NOT NULL,
	`tags` text DEFAULT '' NOT NULL,
	`dedupe_key` text,
	`created_at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `memories_id_unique` ON `memories` (`id`);--> statement-breakpoint
CREATE INDEX `memories_tenant_type_idx` ON `memories` (`tenant_id`,`agent_type`,`seq`);--> statement-breakpoint
CREATE UNIQUE INDEX `memories_dedupe_uq` ON `memories` (`tenant_id`,`dedupe_key`);