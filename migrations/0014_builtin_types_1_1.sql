-- Version 1.1.0 of the built-in agent types: the same prompts and budgets, with the issue-5
-- system calls added (workspace, blackboard, artifacts, memory, messages and topics). Spawns
-- get the newest active version unless they pin 1.0.0, which stays as it was.
INSERT INTO agent_types (id, scope, name, version, description, model, system_prompt, default_budget_json, capabilities_json, status, created_at_ms)
SELECT 'at_00000000000070008000000000000011', scope, name, '1.1.0', description, model, system_prompt, default_budget_json,
  '["proc.finish","proc.sleep","ws.read","ws.write","ws.share","bb.read","bb.write","artifact.read","artifact.write","memory.read","memory.write","msg.send","msg.recv","topic.publish","topic.subscribe"]',
  'active', 1779321600000
FROM agent_types WHERE id = 'at_00000000000070008000000000000001';
--> statement-breakpoint
INSERT INTO agent_types (id, scope, name, version, description, model, system_prompt, default_budget_json, capabilities_json, status, created_at_ms)
SELECT 'at_00000000000070008000000000000012', scope, name, '1.1.0', description, model, system_prompt, default_budget_json,
  '["proc.finish","proc.sleep","proc.spawn","proc.wait","ws.read","ws.write","ws.share","bb.read","bb.write","artifact.read","artifact.write","memory.read","memory.write","msg.send","msg.recv","topic.publish","topic.subscribe"]',
  'active', 1779321600000
FROM agent_types WHERE id = 'at_00000000000070008000000000000002';
