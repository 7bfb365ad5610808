-- Built-in agent types, visible to every tenant (scope 'global'). Versions are immutable:
-- change one by adding a new version in a later migration.
INSERT INTO agent_types (id, scope, name, version, description, model, system_prompt, default_budget_json, capabilities_json, status, created_at_ms)
VALUES (
  'at_00000000000070008000000000000001', 'global', 'assistant', '1.0.0',
  'A general-purpose agent that works toward its goal with the tools it is granted and finishes with a result.',
  'scripted',
  'You are an agent process in edgekernel. Work toward your goal step by step. Call finish(result) when the goal is met.',
  '{"maxTokens":200000,"maxToolCalls":100,"wallClockMs":3600000,"maxCostMicroUsd":5000000}',
  '["proc.finish","proc.sleep"]',
  'active', 1767225600000
);
--> statement-breakpoint
INSERT INTO agent_types (id, scope, name, version, description, model, system_prompt, default_budget_json, capabilities_json, status, created_at_ms)
VALUES (
  'at_00000000000070008000000000000002', 'global', 'coordinator', '1.0.0',
  'Splits its goal into sub-goals, spawns a child process for each, waits for them and combines their results.',
  'scripted',
  'You are a coordinating agent process in edgekernel. Split your goal, spawn(child) for each part, wait(child) for each, then finish(result) with the combined answer.',
  '{"maxTokens":500000,"maxToolCalls":200,"wallClockMs":7200000,"maxCostMicroUsd":20000000}',
  '["proc.finish","proc.sleep","proc.spawn","proc.wait"]',
  'active', 1767225600000
);
