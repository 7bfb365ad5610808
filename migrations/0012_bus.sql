CREATE TABLE `bus_dead_letters` (
	`id` text PRIMARY KEY NOT NULL,
	`message_id` text NOT NULL,
	`tenant_id` text NOT NULL,
	`target_id` text NOT NULL,
	`envelope_json` text NOT NULL,
	`status` text NOT NULL,
	`last_error` text NOT NULL,
	`attempts` integer NOT NULL,
	`replays` integer DEFAULT 0 NOT NULL,
	`first_failed_at_ms` integer NOT NULL,
	`last_failed_at_ms` integer NOT NULL,
	`dead_at_ms` integer,
	`replayed_at_ms` integer
);
--> statement-breakpoint
CREATE INDEX `bus_dead_letters_tenant_status_idx` ON `bus_dead_letters` (`tenant_id`,`status`,`last_failed_at_ms`);--> statement-breakpoint
CREATE TABLE `bus_subscriptions` (
	`tenant_id` text NOT NULL,
	`topic` text NOT NULL,
	`process_id` text NOT NULL,
	`created_at_ms` integer NOT NULL,
	PRIMARY KEY(`tenant_id`, `topic`, `process_id`)
);
--> statement-breakpoint
CREATE INDEX `bus_subscriptions_process_idx` ON `bus_subscriptions` (`process_id`);