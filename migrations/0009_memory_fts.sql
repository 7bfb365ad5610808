-- Full-text index over long-term memories: an external-content FTS5 table (the text lives once,
-- in `memories`; the index refers to rows by `seq`), kept in sync by triggers. Porter stemming
-- over unicode61, so "deploying" finds "deploy".
CREATE VIRTUAL TABLE `memories_fts` USING fts5(content, tags, content='memories', content_rowid='seq', tokenize='porter unicode61');
--> statement-breakpoint
CREATE TRIGGER `memories_fts_ai` AFTER INSERT ON `memories` BEGIN
  INSERT INTO memories_fts(rowid, content, tags) VALUES (new.seq, new.content, new.tags);
END;
--> statement-breakpoint
CREATE TRIGGER `memories_fts_ad` AFTER DELETE ON `memories` BEGIN
  INSERT INTO memories_fts(memories_fts, rowid, content, tags) VALUES ('delete', old.seq, old.content, old.tags);
END;
--> statement-breakpoint
CREATE TRIGGER `memories_fts_au` AFTER UPDATE ON `memories` BEGIN
  INSERT INTO memories_fts(memories_fts, rowid, content, tags) VALUES ('delete', old.seq, old.content, old.tags);
  INSERT INTO memories_fts(rowid, content, tags) VALUES (new.seq, new.content, new.tags);
END;
--> statement-breakpoint
-- memory.read / memory.write: the long-term memory system calls (low risk: they touch only the
-- caller's own tenant and agent type).
INSERT INTO capabilities (id, scope, namespace, name, version, description, input_schema_json, risk, provider, status, created_at_ms) VALUES
  ('cap_00000000000070008000000000000040', 'global', 'memory', 'read', '1.0.0', 'Search the long-term memory of this agent type.', '{"type":"object","properties":{"query":{"type":"string"},"limit":{"type":"integer","minimum":1,"maximum":50}},"required":["query"],"additionalProperties":false}', 'low', 'builtin', 'active', 1767225600000),
  ('cap_00000000000070008000000000000041', 'global', 'memory', 'write', '1.0.0', 'Write a long-term memory for this agent type.', '{"type":"object","properties":{"content":{"type":"string"},"tags":{"type":"array","items":{"type":"string"}}},"required":["content"],"additionalProperties":false}', 'low', 'builtin', 'active', 1767225600000);
