import { describe, expect, it } from "vitest";
import {
  checkModelAvailable,
  createModelClient,
  MAX_MODEL_ID_CHARS,
  ModelIdSchema,
  parseModelId,
  providerOf,
} from "../../src/llm/registry.js";
import { ModelCallError } from "../../src/llm/types.js";

describe("model ids", () => {
  it.each([
    "scripted",
    "openai:gpt-4o-mini",
    "openai:llama3.1:8b",
    "openai:Qwen/Qwen2.5-7B-Instruct",
    "anthropic:claude-sonnet-4-5",
    "workers-ai:@cf/meta/llama-3.1-8b-instruct",
  ])("accepts %s", (id) => {
    expect(ModelIdSchema.safeParse(id).success).toBe(true);
  });

  it.each([
    "",
    "gpt-4o",
    "openai:",
    "openai",
    "scripted:extra",
    "google:gemini",
    "OpenAI:gpt-4o",
    "openai: gpt-4o",
    "openai:gpt 4o",
    "openai::x",
    "anthropic:claude\n",
  ])("rejects %j", (id) => {
    expect(ModelIdSchema.safeParse(id).success).toBe(false);
    expect(providerOf(id)).toBeNull();
  });

  it("accepts an id at the length limit and rejects one over it", () => {
    const at = `openai:${"m".repeat(MAX_MODEL_ID_CHARS - "openai:".length)}`;
    expect(ModelIdSchema.safeParse(at).success).toBe(true);
    expect(ModelIdSchema.safeParse(`${at}m`).success).toBe(false);
  });

  it("splits provider from model at the first colon", () => {
    expect(parseModelId("openai:llama3.1:8b")).toEqual({
      provider: "openai",
      model: "llama3.1:8b",
    });
    expect(providerOf("workers-ai:@cf/meta/llama-3.1-8b-instruct")).toBe("workers-ai");
    expect(providerOf("scripted")).toBe("scripted");
  });
});

describe("checkModelAvailable", () => {
  it("always allows the scripted model", () => {
    expect(checkModelAvailable("scripted", {})).toEqual({ ok: true });
  });

  it("needs OPENAI_API_KEY for OpenAI itself", () => {
    const missing = checkModelAvailable("openai:gpt-4o", {});
    expect(missing.ok).toBe(false);
    if (!missing.ok) expect(missing.reason).toContain("OPENAI_API_KEY");
    expect(checkModelAvailable("openai:gpt-4o", { OPENAI_API_KEY: "  " }).ok).toBe(false);
    expect(
      checkModelAvailable("openai:gpt-4o", {
        OPENAI_BASE_URL: "https://api.openai.com/v1",
      }).ok,
    ).toBe(false);
    expect(checkModelAvailable("openai:gpt-4o", { OPENAI_API_KEY: "sk-test" })).toEqual({
      ok: true,
    });
  });

  it("lets a self-hosted OpenAI-compatible endpoint run without a key", () => {
    expect(
      checkModelAvailable("openai:llama3.1:8b", { OPENAI_BASE_URL: "http://localhost:11434/v1" }),
    ).toEqual({ ok: true });
  });

  it("rejects an OPENAI_BASE_URL that is not an http(s) URL", () => {
    for (const url of ["localhost:11434", "ftp://example.com/v1", "not a url"]) {
      const result = checkModelAvailable("openai:m", { OPENAI_BASE_URL: url, OPENAI_API_KEY: "k" });
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.reason).toContain("OPENAI_BASE_URL");
    }
  });

  it("needs ANTHROPIC_API_KEY for Anthropic, with an optional valid base URL", () => {
    const missing = checkModelAvailable("anthropic:claude-sonnet-4-5", {
      OPENAI_API_KEY: "sk-other-provider",
    });
    expect(missing.ok).toBe(false);
    if (!missing.ok) expect(missing.reason).toContain("ANTHROPIC_API_KEY");
    expect(
      checkModelAvailable("anthropic:claude-sonnet-4-5", { ANTHROPIC_API_KEY: "sk-ant" }),
    ).toEqual({ ok: true });
    expect(
      checkModelAvailable("anthropic:claude-sonnet-4-5", {
        ANTHROPIC_API_KEY: "sk-ant",
        ANTHROPIC_BASE_URL: "https://gateway.example/anthropic",
      }),
    ).toEqual({ ok: true });
    expect(
      checkModelAvailable("anthropic:claude-sonnet-4-5", {
        ANTHROPIC_API_KEY: "sk-ant",
        ANTHROPIC_BASE_URL: "gateway",
      }).ok,
    ).toBe(false);
  });

  it("needs the AI binding for Workers AI, whatever keys are set", () => {
    const result = checkModelAvailable("workers-ai:@cf/meta/llama-3.1-8b-instruct", {
      OPENAI_API_KEY: "sk",
      ANTHROPIC_API_KEY: "sk-ant",
    });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain("AI binding");
  });

  it("names the model id and says why for a malformed id", () => {
    const result = checkModelAvailable("gpt-4o", { OPENAI_API_KEY: "sk" });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain('invalid model id "gpt-4o"');
  });
});

describe("createModelClient", () => {
  function thrown(fn: () => unknown): ModelCallError {
    try {
      fn();
    } catch (error) {
      expect(error).toBeInstanceOf(ModelCallError);
      return error as ModelCallError;
    }
    throw new Error("expected a throw");
  }

  it("refuses an unavailable provider with a fatal error carrying the reason", () => {
    const error = thrown(() => createModelClient("anthropic:claude-sonnet-4-5", {}));
    expect(error.status).toBe(400);
    expect(error.message).toContain("ANTHROPIC_API_KEY");
    expect(thrown(() => createModelClient("workers-ai:@cf/x", {})).message).toContain("AI binding");
    expect(thrown(() => createModelClient("nope", {})).status).toBe(400);
  });

  it("builds clients named by their model id", () => {
    expect(createModelClient("openai:gpt-4o", { OPENAI_API_KEY: "sk" }).id).toBe("openai:gpt-4o");
    expect(
      createModelClient("anthropic:claude-sonnet-4-5", { ANTHROPIC_API_KEY: "sk-ant" }).id,
    ).toBe("anthropic:claude-sonnet-4-5");
  });

  it("builds the scripted model from a script read back from storage", async () => {
    const stored: unknown[] = JSON.parse('[{"text":"hi"}]');
    const client = createModelClient("scripted", {}, { script: stored });
    const reply = await client.generate({
      system: "",
      messages: [],
      tools: [],
      maxOutputTokens: 9,
    });
    expect(reply.text).toBe("hi");
  });

  it("refuses a scripted model whose script is invalid", () => {
    const error = thrown(() => createModelClient("scripted", {}, { script: [{ text: 5 }] }));
    expect(error.status).toBe(400);
    expect(error.message).toContain("invalid script");
  });
});
