-- The scheduler control plane's system calls (src/schedcp/capabilities.ts, which a test holds
-- to these rows): observing is low risk, submitting, verifying and recording medium, deploying
-- high (the default policy high-risk-needs-approval puts a person in the loop before a rollout,
-- and a high-risk built-in needs an entitlement), stopping or rolling back medium.
INSERT INTO capabilities (id, scope, namespace, name, version, description, input_schema_json, risk, provider, status, created_at_ms) VALUES
  ('cap_00000000000070008000000000000050', 'global', 'fleet', 'observe', '1.0.0', 'List the fleet''s nodes and read their facts, telemetry, deploy history and workload profiles.', '{"type":"object","properties":{"nodeId":{"type":"string"},"labels":{"type":"object"},"role":{"enum":["node","verifier"]}},"additionalProperties":false}', 'low', 'builtin', 'active', 1796601600000),
  ('cap_00000000000070008000000000000051', 'global', 'sched', 'read', '1.0.0', 'Search and read scheduler policies, their versions, verification results, history and recommendations.', '{"type":"object","properties":{"id":{"type":"string"},"q":{"type":"string"},"workload":{"type":"string"}},"additionalProperties":false}', 'low', 'builtin', 'active', 1796601600000),
  ('cap_00000000000070008000000000000052', 'global', 'sched', 'submit', '1.0.0', 'Submit a scheduler policy or a new version of one (the static checks run at once).', '{"type":"object","properties":{"policyId":{"type":"string"},"name":{"type":"string"},"source":{"type":"string"},"parameters":{"type":"object"}},"required":["source"],"additionalProperties":true}', 'medium', 'builtin', 'active', 1796601600000),
  ('cap_00000000000070008000000000000053', 'global', 'sched', 'verify', '1.0.0', 'Send a checked policy version to a verifier node, which loads it in a throwaway VM.', '{"type":"object","properties":{"policyId":{"type":"string"},"version":{"type":"integer","minimum":1}},"required":["policyId","version"],"additionalProperties":false}', 'medium', 'builtin', 'active', 1796601600000),
  ('cap_00000000000070008000000000000054', 'global', 'sched', 'record', '1.0.0', 'Record how a policy version did on a node or a label group (the repository''s performance history).', '{"type":"object","properties":{"policyId":{"type":"string"},"version":{"type":"integer","minimum":1},"outcome":{"enum":["improved","neutral","regressed","rolled_back"]}},"required":["policyId","version","outcome"],"additionalProperties":true}', 'medium', 'builtin', 'active', 1796601600000),
  ('cap_00000000000070008000000000000055', 'global', 'sched', 'deploy', '1.0.0', 'Start a rollout of a signed policy version to nodes, canaries first.', '{"type":"object","properties":{"policyId":{"type":"string"},"version":{"type":"integer","minimum":1},"target":{"type":"object"}},"required":["policyId","version","target"],"additionalProperties":true}', 'high', 'builtin', 'active', 1796601600000),
  ('cap_00000000000070008000000000000056', 'global', 'sched', 'rollback', '1.0.0', 'Stop a rollout, or roll it back to what the nodes ran before.', '{"type":"object","properties":{"rolloutId":{"type":"string"},"reason":{"type":"string"}},"required":["rolloutId"],"additionalProperties":false}', 'medium', 'builtin', 'active', 1796601600000);
--> statement-breakpoint
-- The built-in sched-agent: observes a node or label group, picks or writes a policy, verifies
-- it, canaries it, measures and records the outcome in the repository.
INSERT INTO agent_types (id, scope, name, version, description, model, system_prompt, default_budget_json, capabilities_json, status, created_at_ms)
VALUES (
  'at_00000000000070008000000000000021', 'global', 'sched-agent', '1.0.0',
  'Tunes the Linux CPU scheduler of a node or label group through sched_ext: observes its workload, picks or writes a policy, verifies it, canaries it, measures and records the outcome.',
  'scripted',
  'You are sched-agent, an edgekernel process that tunes the Linux CPU schedulers of a fleet through sched_ext. Your goal names a node or a label group. Work in this order and skip no stage:
1. Observe: fleet_nodes finds the target, and fleet_profile gives its workload class, the evidence with the thresholds it was held to, and the policies the repository recommends with their reasons. Without telemetry or a class, finish and say so.
2. Pick or write: prefer a recommended policy (policy_search, and policy_get, which shows its tunables, limitations, versions and verification). Built-ins are verified as your tenant''s own copy: policy_submit with the built-in''s source (policy_get with includeSource). Write a new one only when none fits: policy_submit with BPF C source and metadata. The static checks answer at once, and their diagnostics name the line to fix.
3. Verify: policy_verify sends the version to a verifier node, which loads it into a real sched_ext kernel in a throwaway VM. Verification takes minutes: recv waits (give it a timeoutMs), then policy_status shows where the version stands. Never go on with a version that is not signed.
4. Canary: when rollout_start is offered, start a rollout with a small canary fraction and guards (a person approves every rollout) and follow it with rollout_status. When it is not offered, ask for the canary in your result and stop, unless your goal says a person deploys it and will message you: then recv waits for that message.
5. Measure: fleet_profile again, and compare the signals before and after.
6. Record: policy_record_outcome with the workload class, the metrics before and after and the outcome (improved, neutral, regressed or rolled_back), then finish(result) with what you did and why.
If a tool you need is not offered to you, stop at that stage and finish with your recommendation.',
  '{"maxTokens":1000000,"maxToolCalls":300,"wallClockMs":86400000,"maxCostMicroUsd":20000000}',
  '["proc.finish","proc.sleep","fleet.observe","sched.read","sched.submit","sched.verify","sched.deploy","sched.record","msg.recv","memory.read","memory.write"]',
  'active', 1796601600000
);
