CREATE TABLE `scheduler_pools` (
	`name` text PRIMARY KEY NOT NULL,
	`config_json` text NOT NULL,
	`updated_at_ms` integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE `agent_types` ADD `script_json` text;--> statement-breakpoint
ALTER TABLE `agent_types` ADD `pool` text;