-- proc.signal: pausing, resuming and terminating a process, as an API key or MCP client does it.
INSERT INTO capabilities (id, scope, namespace, name, version, description, input_schema_json, risk, provider, status, created_at_ms) VALUES
  ('cap_00000000000070008000000000000005', 'global', 'proc', 'signal', '1.0.0', 'Pause, resume or terminate a process.', '{"type":"object","properties":{"id":{"type":"string"},"signal":{"enum":["pause","resume","terminate"]},"reason":{"type":"string"}},"required":["id","signal"],"additionalProperties":false}', 'medium', 'builtin', 'active', 1767225600000);
