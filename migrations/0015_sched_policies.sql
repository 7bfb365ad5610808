CREATE TABLE `sched_policies` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`id` text NOT NULL,
	`tenant_id` text,
	`name` text NOT NULL,
	`description` text NOT NULL,
	`algorithm` text NOT NULL,
	`use_cases` text NOT NULL,
	`tunables_json` text NOT NULL,
	`limitations` text NOT NULL,
	`ops_name` text NOT NULL,
	`latest_version` integer NOT NULL,
	`created_by` text NOT NULL,
	`created_at_ms` integer NOT NULL,
	`updated_at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `sched_policies_id_unique` ON `sched_policies` (`id`);--> statement-breakpoint
CREATE UNIQUE INDEX `sched_policies_tenant_name_uq` ON `sched_policies` (`tenant_id`,`name`);--> statement-breakpoint
CREATE INDEX `sched_policies_name_idx` ON `sched_policies` (`name`,`id`);--> statement-breakpoint
CREATE TABLE `sched_policy_failures` (
	`tenant_id` text NOT NULL,
	`policy_id` text NOT NULL,
	`version` integer NOT NULL,
	`node_id` text NOT NULL,
	`rollout_id` text,
	`reason` text NOT NULL,
	`at_ms` integer NOT NULL,
	PRIMARY KEY(`tenant_id`, `policy_id`, `version`, `node_id`)
);
--> statement-breakpoint
CREATE TABLE `sched_policy_performance` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`policy_id` text NOT NULL,
	`version` integer NOT NULL,
	`target_kind` text NOT NULL,
	`target` text NOT NULL,
	`workload_class` text NOT NULL,
	`metrics_before_json` text NOT NULL,
	`metrics_after_json` text NOT NULL,
	`outcome` text NOT NULL,
	`rollout_id` text,
	`recorded_at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `sched_policy_performance_policy_idx` ON `sched_policy_performance` (`tenant_id`,`policy_id`,`recorded_at_ms`);--> statement-breakpoint
CREATE TABLE `sched_policy_quarantines` (
	`tenant_id` text NOT NULL,
	`policy_id` text NOT NULL,
	`version` integer NOT NULL,
	`reason` text NOT NULL,
	`failed_nodes_json` text NOT NULL,
	`quarantined_at_ms` integer NOT NULL,
	`cleared_at_ms` integer,
	`cleared_by` text,
	PRIMARY KEY(`tenant_id`, `policy_id`, `version`)
);
--> statement-breakpoint
CREATE TABLE `sched_policy_versions` (
	`policy_id` text NOT NULL,
	`version` integer NOT NULL,
	`parent_version` integer,
	`status` text NOT NULL,
	`status_reason` text,
	`source_sha256` text NOT NULL,
	`source_size_bytes` integer NOT NULL,
	`parameters_json` text NOT NULL,
	`tunables_json` text NOT NULL,
	`diagnostics_json` text NOT NULL,
	`verification_json` text,
	`object_sha256` text,
	`object_size_bytes` integer,
	`signature` text,
	`key_id` text,
	`signed_at_ms` integer,
	`signed_expires_at_ms` integer,
	`created_by` text NOT NULL,
	`created_at_ms` integer NOT NULL,
	`updated_at_ms` integer NOT NULL,
	PRIMARY KEY(`policy_id`, `version`)
);
--> statement-breakpoint
CREATE INDEX `sched_policy_versions_source_idx` ON `sched_policy_versions` (`policy_id`,`source_sha256`);--> statement-breakpoint
CREATE TABLE `sched_rollout_history` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`tenant_id` text NOT NULL,
	`policy_id` text NOT NULL,
	`version` integer NOT NULL,
	`rollout_id` text NOT NULL,
	`node_id` text,
	`from_state` text NOT NULL,
	`to_state` text NOT NULL,
	`reason` text,
	`at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `sched_rollout_history_policy_idx` ON `sched_rollout_history` (`tenant_id`,`policy_id`,`at_ms`);--> statement-breakpoint
CREATE INDEX `sched_rollout_history_node_idx` ON `sched_rollout_history` (`tenant_id`,`node_id`,`at_ms`);