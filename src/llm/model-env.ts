/**
 * The bindings and secrets model providers read. A subset of the Worker's `Env` with every field
 * optional, so the Worker's env can be passed as is and a missing one is reported, not assumed.
 */
export interface ModelEnv {
  /** The Workers AI binding (`[ai] binding = "AI"` in wrangler.toml). */
  AI?: Ai;
  /** OpenAI-compatible endpoint, e.g. `http://localhost:11434/v1` for Ollama. */
  OPENAI_BASE_URL?: string;
  OPENAI_API_KEY?: string;
  ANTHROPIC_API_KEY?: string;
  /** Optional proxy or gateway in front of Anthropic. */
  ANTHROPIC_BASE_URL?: string;
}

/** A provider's resolved settings, or why it cannot be used. */
export type ProviderSettings<T> = { ok: true; settings: T } | { ok: false; reason: string };
