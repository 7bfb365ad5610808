-- Full-text index over scheduler policies: an external-content FTS5 table (the text lives once,
-- in `sched_policies`; the index refers to rows by `seq`), kept in sync by triggers. Porter
-- stemming over unicode61, so "latency" finds "latencies"; use cases (a JSON array) are
-- tokenised as words.
CREATE VIRTUAL TABLE `sched_policies_fts` USING fts5(name, description, algorithm, use_cases, content='sched_policies', content_rowid='seq', tokenize='porter unicode61');
--> statement-breakpoint
CREATE TRIGGER `sched_policies_fts_ai` AFTER INSERT ON `sched_policies` BEGIN
  INSERT INTO sched_policies_fts(rowid, name, description, algorithm, use_cases) VALUES (new.seq, new.name, new.description, new.algorithm, new.use_cases);
END;
--> statement-breakpoint
CREATE TRIGGER `sched_policies_fts_ad` AFTER DELETE ON `sched_policies` BEGIN
  INSERT INTO sched_policies_fts(sched_policies_fts, rowid, name, description, algorithm, use_cases) VALUES ('delete', old.seq, old.name, old.description, old.algorithm, old.use_cases);
END;
--> statement-breakpoint
CREATE TRIGGER `sched_policies_fts_au` AFTER UPDATE OF name, description, algorithm, use_cases ON `sched_policies` BEGIN
  INSERT INTO sched_policies_fts(sched_policies_fts, rowid, name, description, algorithm, use_cases) VALUES ('delete', old.seq, old.name, old.description, old.algorithm, old.use_cases);
  INSERT INTO sched_policies_fts(rowid, name, description, algorithm, use_cases) VALUES (new.seq, new.name, new.description, new.algorithm, new.use_cases);
END;
